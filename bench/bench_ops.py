"""The cost of the operations layer per request: metrics and compression on and off, same run.

Usage: ``python -m bench ops [--seconds 5] [--rounds 3] [--connections 8]``. Three servers of
the same code run side by side on the same explain requests (1,000 distinct codes of every kind,
tests/iscc_codes.py, cycled by a wrk script; the answers are JSON of 0.3-1.5 kB, about one in
six above the 1 kB compression threshold):

- ``off``: only the ``explain`` group;
- ``metrics``: ``sentry``, ``metrics`` and ``explain`` as in the default plugins.toml (no DSN);
- ``metrics + sentry DSN``: the same with ``sentry_dsn`` set (to a closed port of 127.0.0.1:
  explain answers are 200, so nothing is ever sent);

each once with a client that accepts no encoding and once with ``Accept-Encoding: gzip,
deflate, br`` (as browsers send it: brotli answers). Every round measures every row once, rows
interleaved so load noise hits all of them; the median round is reported. Besides wrk's
requests/s and latencies, the server process's own CPU time (user + system, /proc) per request.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.bench_explain import write_cycle_script
from bench.procs import free_port, kernel_server

ACCEPT = "gzip, deflate, br"
SERVERS = {
    "off": '["explain"]',
    "metrics": '["sentry", "metrics", "explain"]',
    "metrics + sentry DSN": '["sentry", "metrics", "explain"]',
}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: Path, seconds: int, connections: int, accept: str | None
        ) -> tuple[float, str, str, int]:
    """requests/s, p50, p99 and the number of requests of one wrk run."""
    header = ["-H", f"Accept-Encoding: {accept}"] if accept else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         *header, url], capture_output=True, text=True, check=True,
    ).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"wrk saw error responses from {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rate, p50, p99, count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench ops needs wrk (Debian package 'wrk'; make setup installs it)")
    rows: dict[str, list[tuple[float, str, str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ops-") as tmp, \
            contextlib.ExitStack() as stack:
        work = Path(tmp)
        cycle = write_cycle_script(work)
        servers: dict[str, tuple[str, int]] = {}
        for name, plugins in SERVERS.items():
            config = work / f"{len(servers)}.toml"
            dsn = (f'sentry_dsn = "http://key@127.0.0.1:{free_port()}/1"\n'
                   if "DSN" in name else "")
            config.write_text(f"[kernel]\nplugins = {plugins}\nmedia_path = \"{work}/media\"\n"
                              f'cleanup_interval = 0\nlog_level = "WARNING"\n{dsn}')
            port = free_port()
            proc = stack.enter_context(kernel_server(config, port, log=work / f"{name}.log"))
            servers[name] = (f"http://127.0.0.1:{port}", proc.pid)
        targets = {f"{name}, {label}": (url, pid, accept)
                   for name, (url, pid) in servers.items()
                   for label, accept in (("identity", None), ("br", ACCEPT))}
        for url, _, accept in targets.values():  # warm up: imports, caches, first connections
            subprocess.run(["wrk", "-t1", "-c2", "-d1s", "-s", str(cycle),
                            *(["-H", f"Accept-Encoding: {accept}"] if accept else []), url],
                           capture_output=True, check=True)
        for _ in range(args.rounds):
            for label, (url, pid, accept) in targets.items():
                before = cpu_seconds(pid)
                rate, p50, p99, count = wrk(url, cycle, args.seconds, args.connections, accept)
                cpu_us = (cpu_seconds(pid) - before) / count * 1e6
                rows.setdefault(label, []).append((rate, p50, p99, cpu_us))

    print(f"\nexplain, 1,000 distinct codes; {args.connections} connections, {args.seconds} s x "
          f"{args.rounds} rounds (medians), wrk; server CPU (user+system) per request")
    print(f"{'':34} {'req/s':>8} {'p50':>9} {'p99':>9} {'CPU µs':>7}   all rounds (req/s)")
    medians = {}
    for label, runs in rows.items():
        rate, p50, p99, _ = sorted(runs)[len(runs) // 2]
        cpu_us = statistics.median(r[3] for r in runs)
        medians[label] = (rate, cpu_us)
        every = " ".join(f"{r[0]:.0f}" for r in runs)
        print(f"{label:34} {rate:8.0f} {p50:>9} {p99:>9} {cpu_us:7.0f}   {every}")
    base_rate, base_cpu = medians["off, identity"]
    for label, (rate, cpu_us) in medians.items():
        if label != "off, identity":
            print(f"{label:34} / off, identity: req/s {rate / base_rate:.2f}, "
                  f"CPU per request {cpu_us - base_cpu:+.0f} µs")


if __name__ == "__main__":
    main()
