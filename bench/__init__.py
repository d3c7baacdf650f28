"""Benchmarks: run all with ``python -m bench`` (or ``make bench``), one with ``-m bench.NAME``."""
