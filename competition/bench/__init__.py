"""Synthetic competitions and the measurements behind docs/performance.md: the generator
(`competition_generate`) and the benchmark (`competition_bench`). Not used by the app itself."""
