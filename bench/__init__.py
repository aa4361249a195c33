"""Synthetic competitions and the measurements behind docs/performance.md: the generator
(`competition_generate`), the benchmark (`competition_bench`, `make bench`) and the serving
benchmark (`serving.py`). A Django app of the demo site (the serving benchmark starts its gunicorn
with config/), never part of the competition package: not used by the app itself, and not tests."""
