"""Synthetic competitions and the measurements behind docs/performance.md: the generator
(`competition_generate`), the benchmark (`competition_bench`, `make bench`) and the serving
benchmark (`serving.py`). Not used by the app itself, and not tests."""
