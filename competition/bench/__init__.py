"""Benchmarks of the competition app (not tests: `make bench` runs them)."""
