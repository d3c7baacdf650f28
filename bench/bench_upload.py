"""Upload throughput of a large body to POST /api/v1/media, next to bare Starlette + uvicorn.

Usage: ``python -m bench.bench_upload [--size-mib 1024] [--repeat 3]``. curl sends the body
from a file in the page cache, once with Content-Length and once chunked; the server's RSS is
sampled every 20 ms during each upload.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.procs import PeakRss, free_port, kernel_server, running


def make_payload(path: Path, size: int) -> None:
    block = bytes(range(256)) * 4096  # 1 MiB
    with path.open("wb") as fh:
        for _ in range(size // len(block)):
            fh.write(block)


def curl_upload(url: str, payload: Path, chunked: bool, extra: list[str]) -> float:
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", *extra]
    if chunked:
        cmd += ["-H", "Transfer-Encoding: chunked", "-T", "-"]
        stdin = payload.open("rb")
    else:
        cmd += ["-T", str(payload), "-H", "Expect:"]
        stdin = None
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd + [url], stdin=stdin, capture_output=True, text=True, check=True)
    finally:
        if stdin:
            stdin.close()
    elapsed = time.perf_counter() - start
    if out.stdout.strip() != "201":
        raise RuntimeError(f"upload failed: HTTP {out.stdout} {out.stderr}")
    return elapsed


def measure(url: str, pid: int, payload: Path, chunked: bool, extra: list[str],
            repeat: int, cleanup: Path | None) -> tuple[float, float]:
    """Median MB/s over ``repeat`` uploads and the largest RSS growth (MiB) seen."""
    size = payload.stat().st_size
    rates, growth = [], 0.0
    for _ in range(repeat):
        with PeakRss(pid) as rss:
            elapsed = curl_upload(url, payload, chunked, extra)
        rates.append(size / elapsed / 1e6)
        growth = max(growth, (rss.peak - rss.baseline) / 1024)
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)
    return statistics.median(rates), growth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        work = Path(tmp)
        payload = work / "payload.bin"
        make_payload(payload, args.size_mib * 1024 * 1024)
        media = work / "media"
        config = work / "plugins.toml"
        config.write_text(f'[kernel]\nplugins = ["media"]\nmedia_path = "{media}"\n'
                          f"max_upload_size = {4 * 1024**3}\ncleanup_interval = 0\n"
                          'log_level = "WARNING"\n')
        name = ["-H", "X-Upload-Filename: " + base64.b64encode(b"payload.bin").decode(),
                "-H", "Content-Type: application/octet-stream"]
        results: dict[str, tuple[float, float]] = {}
        port = free_port()
        with kernel_server(config, port) as proc:
            url = f"http://127.0.0.1:{port}/api/v1/media"
            for chunked in (False, True):
                key = f"iscc-web {'chunked' if chunked else 'Content-Length'}"
                results[key] = measure(url, proc.pid, payload, chunked, name, args.repeat, media)
        port = free_port()
        cmd = [sys.executable, "-m", "uvicorn", "bench.baseline_starlette:app", "--http",
               "httptools", "--port", str(port), "--log-level", "warning"]
        env = {"BASELINE_DIR": str(work / "baseline")}
        with running(cmd, f"http://127.0.0.1:{port}/ready", env=env) as proc:
            url = f"http://127.0.0.1:{port}/upload"
            for chunked in (False, True):
                key = f"starlette {'chunked' if chunked else 'Content-Length'}"
                results[key] = measure(url, proc.pid, payload, chunked, [], args.repeat, None)
    print(f"\nUpload {args.size_mib} MiB to POST /api/v1/media, median of {args.repeat}")
    print(f"{'server':32} {'MB/s':>8} {'RSS growth MiB':>15}")
    for key, (rate, growth) in results.items():
        print(f"{key:32} {rate:8.0f} {growth:15.1f}")
    for mode in ("Content-Length", "chunked"):
        ratio = results[f"iscc-web {mode}"][0] / results[f"starlette {mode}"][0]
        print(f"ratio iscc-web / starlette ({mode}): {ratio:.2f}")


if __name__ == "__main__":
    main()
