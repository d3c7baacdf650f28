"""Run every benchmark and print its figures: ``python -m bench`` (or ``make bench``).

``python -m bench NAME [args]`` runs one (upload, explain, ops, iscc, mix, sum, s3, similar,
container, jobs) with its own options.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["upload", "explain", "ops", "iscc", "mix", "sum", "s3", "similar", "container",
              "jobs"]


def main(argv: list[str]) -> None:
    if argv and argv[0] in BENCHMARKS:
        importlib.import_module(f"bench.bench_{argv[0]}").main(argv[1:])
        return
    if argv:
        raise SystemExit(f"unknown benchmark {argv[0]!r}; choose from {', '.join(BENCHMARKS)}")
    for name in BENCHMARKS:
        print(f"\n===== bench {name} =====", flush=True)
        importlib.import_module(f"bench.bench_{name}").main([])


if __name__ == "__main__":
    main(sys.argv[1:])
