"""``GET /api/v1/explain/{iscc}`` under 8 concurrent clients: requests/s and p99 latency.

Usage: ``python -m bench.bench_explain [--seconds 10] [--connections 8]``. The load comes
from ``wrk`` (a C client, so the client does not starve the server of CPU).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.procs import free_port, kernel_server

CODE = "KMDMRJYGHHVRCZ5TM6U4G6D4MXA6LAXC4ZRPOKFU7JBEQXR2BJOS6NA"


def parse_wrk(output: str) -> tuple[float, str, str]:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    return rate, p50, p99


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench_explain needs wrk (Debian package 'wrk'; make setup installs it)")
    with tempfile.TemporaryDirectory(prefix="bench-explain-") as tmp:
        config = Path(tmp) / "plugins.toml"
        config.write_text(f'[kernel]\nplugins = ["explain"]\nmedia_path = "{tmp}/media"\n'
                          'cleanup_interval = 0\nlog_level = "WARNING"\n')
        port = free_port()
        with kernel_server(config, port):
            url = f"http://127.0.0.1:{port}/api/v1/explain/{CODE}"
            subprocess.run(["wrk", "-t1", "-c2", "-d2s", url], capture_output=True, check=True)
            out = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", url],
                capture_output=True, text=True, check=True,
            ).stdout
    rate, p50, p99 = parse_wrk(out)
    print(f"\nGET /api/v1/explain/{{iscc}}, {args.connections} connections, {args.seconds} s")
    print(f"requests/s {rate:.0f}   p50 {p50}   p99 {p99}")


if __name__ == "__main__":
    main()
