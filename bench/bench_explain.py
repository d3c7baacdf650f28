"""Cheap endpoints under load, next to a bare Quart-Trio app on the same hypercorn, same run.

Usage: ``python -m bench explain [--seconds 5] [--rounds 3] [--connections 8]
[--http-processes N] [--iscc-web PYTHON:SRC]``. All servers run side by side; each round
measures every row once, and the median round is reported. The load comes from ``wrk`` (a C
client, so the client does not starve the server of CPU). Rows:

- bare Quart-Trio ``GET /hello`` (bench/baseline_quart.py): the framework's floor;
- our unknown route (404) and ``GET /api/v1/explain/{iscc}`` for one 16-character unit, one
  55-character ISCC-CODE, and 1,000 distinct codes of every kind (tests/iscc_codes.py) cycled by
  a wrk script, so no cache can hide the per-code cost;
- with ``--iscc-web PYTHON:SRC``: the incumbent (uvicorn + httptools) run by that interpreter
  with SRC on its path, on the same explain requests.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.procs import free_port, kernel_server, running
from tests.iscc_codes import many_codes

UNIT = "AAA4RJYGHHVRCZ5T"
CODE = "KMDMRJYGHHVRCZ5TM6U4G6D4MXA6LAXC4ZRPOKFU7JBEQXR2BJOS6NA"
EXPLAIN = "/api/v1/explain/"

#: wrk script cycling through the request paths listed in the file named by PATHS_FILE.
CYCLE_LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def write_cycle_script(work: Path, count: int = 1000) -> Path:
    """A wrk script in ``work`` that cycles through explain requests for ``count`` distinct
    codes (tests/iscc_codes.py), so no cache can hide the per-code cost."""
    paths = work / "paths.txt"
    paths.write_text("".join(f"{EXPLAIN}{code}\n" for code in many_codes(count)))
    cycle = work / "cycle.lua"
    cycle.write_text(CYCLE_LUA % paths)
    return cycle


def parse_wrk(output: str) -> tuple[float, str, str]:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    return rate, p50, p99


def wrk(url: str, seconds: int, connections: int, script: Path | None = None
        ) -> tuple[float, str, str]:
    extra = ["-s", str(script)] if script else []
    subprocess.run(["wrk", "-t1", "-c2", "-d1s", *extra, url], capture_output=True, check=True)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url],
        capture_output=True, text=True, check=True,
    ).stdout
    if "Non-2xx or 3xx responses" in out and "/no/such/route" not in url:
        raise RuntimeError(f"wrk saw error responses from {url}:\n{out}")
    return parse_wrk(out)


@contextlib.contextmanager
def iscc_web_server(spec: str, work: Path, port: int) -> Iterator[None]:
    python, _, src = spec.partition(":")
    env = {"PYTHONPATH": src, "ISCC_WEB_MEDIA_PATH": str(work / "iscc-web-media"),
           "ISCC_WEB_CLEANUP_INTERVAL": "0", "ISCC_WEB_LOG_LEVEL": "WARNING"}
    cmd = [python, "-m", "uvicorn", "iscc_web.main:app", "--http", "httptools",
           "--port", str(port), "--log-level", "warning"]
    with running(cmd, f"http://127.0.0.1:{port}{EXPLAIN}{UNIT}", env=env):
        yield


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3,
                        help="every row is measured once per round, rows interleaved; "
                        "the median is reported (a busy machine drifts less between rows)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--http-processes", type=int, default=1)
    parser.add_argument("--iscc-web", metavar="PYTHON:SRC",
                        help="also measure the incumbent: its interpreter and source directory")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench explain needs wrk (Debian package 'wrk'; make setup installs it)")
    with tempfile.TemporaryDirectory(prefix="bench-explain-") as tmp, \
            contextlib.ExitStack() as servers:
        work = Path(tmp)
        cycle = write_cycle_script(work)
        targets: dict[str, tuple[str, Path | None]] = {}

        port = free_port()
        servers.enter_context(running(
            [sys.executable, "-m", "bench.baseline_quart", "--bind", f"127.0.0.1:{port}"],
            f"http://127.0.0.1:{port}/hello"))
        targets["bare Quart-Trio GET /hello"] = (f"http://127.0.0.1:{port}/hello", None)

        config = work / "plugins.toml"
        processes = f"http_processes = {args.http_processes}\n" if args.http_processes > 1 else ""
        config.write_text(f'[kernel]\nplugins = ["explain"]\nmedia_path = "{work}/media"\n'
                          f'cleanup_interval = 0\nlog_level = "WARNING"\n{processes}')
        port = free_port()
        servers.enter_context(kernel_server(config, port))
        base = f"http://127.0.0.1:{port}"
        targets["ours: unknown route (404)"] = (f"{base}/no/such/route", None)
        targets[f"ours: explain {UNIT}"] = (f"{base}{EXPLAIN}{UNIT}", None)
        targets["ours: explain 55-char ISCC-CODE"] = (f"{base}{EXPLAIN}{CODE}", None)
        targets["ours: explain 1,000 distinct codes"] = (base, cycle)

        if args.iscc_web:
            port = free_port()
            servers.enter_context(iscc_web_server(args.iscc_web, work, port))
            base = f"http://127.0.0.1:{port}"
            targets[f"iscc-web: explain {UNIT}"] = (f"{base}{EXPLAIN}{UNIT}", None)
            targets["iscc-web: explain 55-char ISCC-CODE"] = (f"{base}{EXPLAIN}{CODE}", None)
            targets["iscc-web: explain 1,000 distinct codes"] = (base, cycle)

        samples: dict[str, list[tuple[float, str, str]]] = {label: [] for label in targets}
        for _ in range(args.rounds):
            for label, (url, script) in targets.items():
                samples[label].append(wrk(url, args.seconds, args.connections, script))
    rows = {label: sorted(runs)[len(runs) // 2] for label, runs in samples.items()}

    print(f"\n{args.connections} connections, {args.seconds} s x {args.rounds} rounds "
          f"(median), wrk; our server with {args.http_processes} HTTP process(es)")
    print(f"{'':42} {'req/s':>8} {'p50':>9} {'p99':>9}   all rounds")
    for label, (rate, p50, p99) in rows.items():
        every = " ".join(f"{r[0]:.0f}" for r in samples[label])
        print(f"{label:42} {rate:8.0f} {p50:>9} {p99:>9}   {every}")
    bare = rows["bare Quart-Trio GET /hello"][0]
    for label, (rate, _, _) in rows.items():
        if label.startswith("ours"):
            print(f"{label[6:]:36} / bare Quart-Trio: {rate / bare:.2f}")
    for label, (rate, _, _) in rows.items():
        other = label.replace("ours:", "iscc-web:")
        if label.startswith("ours: explain") and other in rows:
            print(f"{label[6:]:36} / iscc-web: {rate / rows[other][0]:.2f}")


if __name__ == "__main__":
    main()
