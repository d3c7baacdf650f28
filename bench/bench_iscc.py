"""ISCC throughput over HTTP next to the in-process ceiling, explain latency under load, cold start.

Usage: ``python -m bench iscc [--seconds 20] [--clients 4] [--workers 2] [--storage-dir DIR]
[--other-url http://127.0.0.1:PORT] [--rounds 3]``.

1. Cold start: ``python -m kernel`` is started and the sample image is POSTed to /api/v1/iscc
   until the first 201; the time from process start to that answer is reported.
2. Load: ``--clients`` threads POST the sample image (iscc-samples' first image, a 53 kB
   BMP, sent as ``test-image.jpg`` with ``image/jpeg`` as every earlier figure was: the type
   is found from the content) for ``--seconds``
   against that server (``--workers`` worker processes), each on one kept-alive connection
   through a lean raw-socket client (``bench.procs.KeepAliveClient``: httpx would take ~1 ms of
   the two cores per request from the server), while another process GETs
   /api/v1/explain/{iscc} every 50 ms.
3. With ``--other-url``: right after ours, the same load (same client class, clients, seconds,
   sample, headers and explain probe) against another, already running server of the same API
   on a loopback address (e.g. iscc-web, started as its docs say for production); its ISCC/s and
   ours / its are printed. An answer counts only if it is a 201 with an ``"iscc":"ISCC:…"`` in
   the body (``is_iscc_answer``, the same check for both servers).
4. Ceiling: the same ISCC job (``iscc_job``, i.e. ``code_iscc`` plus the JSON dump) on
   ``--workers`` processes without HTTP, kept busy by ``--clients`` in-flight jobs, at the
   server's worker niceness (``worker_niceness``): on a machine shared with other work a
   ceiling at full priority would win CPU the server's workers are not given.

5. CPU: what the server process and its workers used per answered ISCC during our load
   (``/proc``, the explain probe's requests included), next to the ceiling's CPU per job; their
   ratio is the most HTTP / ceiling can reach with every core busy.

``--rounds N`` runs 2-4 N times in turn (the server stays up, idle while the ceiling runs) and
reports the round with the median ratio (ours / other with ``--other-url``, else HTTP /
ceiling): this VM's speed drifts by up to 2x within minutes (ceilings of 245-419 jobs/s in one
quarter hour), so a ratio of two loads minutes apart says little.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import iscc_samples

from bench.procs import ROOT, KeepAliveClient, free_port, percentile, tree_cpu

IMAGE = Path(iscc_samples.images()[0])
HEADERS = {"X-Upload-Filename": base64.b64encode(b"test-image.jpg").decode(),
           "Content-Type": "image/jpeg"}


def write_config(directory: Path, workers: int) -> Path:
    config = directory / "plugins.toml"
    config.write_text(
        "[kernel]\n"
        'plugins = ["media", "explain", "iscc", "metadata", "simprint"]\n'
        f'media_path = "{directory / "media"}"\n'
        f'work_path = "{directory / "work"}"\n'
        f"max_workers = {workers}\n"
        "warm_workers = true\n"
        "cleanup_interval = 0\n"
        'log_level = "WARNING"\n'
    )
    return config


def start_and_first_201(config: Path, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    """Start the server; return it and the seconds from process start to the first 201."""
    url = f"http://127.0.0.1:{port}/api/v1/iscc"
    data = IMAGE.read_bytes()
    sink = log.open("w")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kernel", "--config", str(config),
                             "--bind", f"127.0.0.1:{port}"], cwd=ROOT, stdout=sink,
                            stderr=subprocess.STDOUT)
    with httpx.Client(timeout=60) as client:
        while True:
            try:
                if client.post(url, content=data, headers=HEADERS).status_code == 201:
                    return proc, time.perf_counter() - start
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.perf_counter() - start > 120:
                raise RuntimeError(f"server did not answer; see {log}")
            time.sleep(0.01)


def loopback_base(url: str) -> str:
    """``http://HOST:PORT`` of ``url`` if HOST is a loopback IP literal; else SystemExit."""
    parts = urlsplit(url)
    try:
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback or parts.port is None or parts.path not in ("", "/"):
        raise SystemExit(f"--other-url must be http://<loopback IP>:<port>, not {url!r}")
    return f"http://{parts.netloc}"


def is_iscc_answer(status: int, body: bytes) -> bool:
    """A successful ``POST /api/v1/iscc``: 201 with an ISCC in the (compact JSON) body."""
    return status == 201 and b'"iscc":"ISCC:' in body


def explain_probe(base: str, iscc: str, seconds: float, sender: Any) -> None:
    """GET /api/v1/explain/{iscc} every 50 ms for ``seconds``; send back the latencies."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=60) as http:
        start = next_at = time.perf_counter()
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            if http.get(f"/api/v1/explain/{iscc}").status_code == 200:
                latencies.append(time.perf_counter() - t0)
            next_at += 0.05
            time.sleep(max(0.0, next_at - time.perf_counter()))
    sender.send(latencies)


def http_load(base: str, seconds: float, clients: int,
              server: int | None = None) -> dict[str, Any]:
    """The load on ``base``; with ``server`` (its pid) also the CPU that process and its
    descendants (the workers) used per answered request, in ms."""
    data = IMAGE.read_bytes()
    stop = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    explain: list[float] = []

    address = urlsplit(base)
    host, port = str(address.hostname), int(address.port or 80)

    def client(slot: int) -> None:
        while not stop.is_set():
            try:
                with KeepAliveClient(port, host) as http:
                    while not stop.is_set():
                        t0 = time.perf_counter()
                        status, body = http.request("POST", "/api/v1/iscc", data, HEADERS)
                        if is_iscc_answer(status, body):
                            latencies[slot].append(time.perf_counter() - t0)
                        else:
                            errors[slot] += 1
            except OSError:  # a closed or refused connection counts, then a new one is opened
                errors[slot] += 1

    with httpx.Client(base_url=base, timeout=60) as http:
        first = http.post("/api/v1/iscc", content=data, headers=HEADERS)
    if not is_iscc_answer(first.status_code, first.content):
        raise RuntimeError(f"{base} answered POST /api/v1/iscc with {first.status_code}: "
                           f"{first.text[:200]}")
    iscc = first.json()["iscc"]
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    # the probe runs in its own process: in this one it would wait for the GIL behind the
    # load threads (up to the 5 ms switch interval) and measure the client, not the server
    receiver, sender = multiprocessing.get_context("spawn").Pipe(duplex=False)
    probe = multiprocessing.get_context("spawn").Process(
        target=explain_probe, args=(base, iscc, seconds, sender))
    probe.start()
    cpu_before = tree_cpu(server) if server else (0.0, 0.0)
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    cpu_after = tree_cpu(server) if server else (0.0, 0.0)
    explain.extend(receiver.recv())
    probe.join()
    done = [x for slot in latencies for x in slot]
    per_request = [(b - a) * 1000 / max(len(done), 1)
                   for a, b in zip(cpu_before, cpu_after, strict=True)]
    return {"rps": len(done) / elapsed, "requests": len(done), "errors": sum(errors),
            "server_ms": per_request[0], "workers_ms": per_request[1],
            "p50": percentile(done, 50), "p95": percentile(done, 95),
            "explain_p99": percentile(explain, 99), "explain_n": len(explain)}


def _init_ceiling_worker(config: dict[str, Any], niceness: int) -> None:
    from plugins._processing.work import init_worker

    os.nice(niceness)
    init_worker(config)


def ceiling_files(in_flight: int, directory: Path) -> list[str]:
    """One copy of the sample per in-flight ceiling job, each in its own directory."""
    files = []
    for i in range(in_flight):
        target = directory / f"job{i}" / "test-image.jpg"
        target.parent.mkdir(parents=True)
        shutil.copy(IMAGE, target)
        files.append(str(target))
    return files


def ceiling(seconds: float, workers: int, files: list[str]) -> dict[str, Any]:
    from kernel.config import KernelSettings
    from plugins._processing.settings import ProcessingSettings
    from plugins._processing.work import iscc_job

    in_flight = len(files)
    context = multiprocessing.get_context("spawn")
    config = ProcessingSettings().worker_config()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_ceiling_worker,
                             initargs=(config, KernelSettings().worker_niceness)) as pool:
        list(pool.map(iscc_job, files, [False] * in_flight, [None] * in_flight))  # warm
        done = 0
        pool_cpu = tree_cpu(os.getpid())[1]  # the pool's processes are our only children now
        start = time.perf_counter()
        pending = {pool.submit(iscc_job, f, False, None) for f in files}
        while time.perf_counter() - start < seconds:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                future.result()
                done += 1
                pending.add(pool.submit(iscc_job, files[done % in_flight], False, None))
        elapsed = time.perf_counter() - start
        wait(pending)
        job_ms = (tree_cpu(os.getpid())[1] - pool_cpu) * 1000 / (done + len(pending))
    return {"rps": done / elapsed, "jobs": done, "job_ms": job_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--other-url", metavar="URL",
                        help="also load an already running server of the same API at this "
                        "loopback URL (e.g. http://127.0.0.1:8765 for iscc-web) right after ours, "
                        "the same way, and print ours / its ISCC/s")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run our load, the --other-url load and the ceiling this many times "
                        "in turn (servers stay up, idle while not loaded) and report the round "
                        "with the median ratio: a shared machine's speed drifts between loads")
    parser.add_argument("--storage-dir", metavar="DIR",
                        help="where the server's media_path and work_path go (default: a new "
                        "directory in the system temp dir); e.g. /dev/shm to see the file "
                        "system's share")
    args = parser.parse_args(argv)
    other_base = loopback_base(args.other_url) if args.other_url else None
    load_at_start = os.getloadavg()[0]
    rounds: list[tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-iscc-", dir=args.storage_dir) as tmp:
        directory = Path(tmp)
        config = write_config(directory, args.workers)
        files = ceiling_files(args.clients, directory / "ceiling")
        proc, cold = start_and_first_201(config, free_port(), directory / "server.log")
        port = next(a for a in proc.args if a.startswith("127.0.0.1:")).rsplit(":", 1)[1]
        try:
            for _ in range(args.rounds):  # the idle server's workers cost the ceiling nothing
                ours = http_load(f"http://127.0.0.1:{port}", args.seconds, args.clients,
                                 proc.pid)
                theirs = http_load(other_base, args.seconds, args.clients) if other_base else None
                rounds.append((ours, theirs, ceiling(args.seconds, args.workers, files)))
        finally:
            proc.terminate()
            proc.wait(30)
    ratios = [ours["rps"] / theirs["rps"] if theirs and theirs["rps"] else float("inf")
              for ours, theirs, _ in rounds]
    shares = [ours["rps"] / top["rps"] for ours, _, top in rounds]
    median = len(rounds) // 2
    load, other, top = rounds[sorted(range(len(rounds)),
                                     key=(ratios if other_base else shares).__getitem__)[median]]
    print(f"ISCC benchmark: sample image {IMAGE.stat().st_size} bytes, {args.clients} clients, "
          f"{args.workers} workers, {args.seconds:.0f} s, {os.cpu_count()} CPUs; load average "
          f"{load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(f"  cold start (process start -> first 201): {cold:.2f} s")
    print(f"  HTTP  POST /api/v1/iscc: {load['rps']:.1f} req/s ({load['requests']} ok, "
          f"{load['errors']} errors), p50 {load['p50'] * 1000:.1f} ms, "
          f"p95 {load['p95'] * 1000:.1f} ms")
    if other is not None:
        print(f"  other server {other_base}: POST /api/v1/iscc: {other['rps']:.1f} req/s "
              f"({other['requests']} ok, {other['errors']} errors), p50 "
              f"{other['p50'] * 1000:.1f} ms, p95 {other['p95'] * 1000:.1f} ms; explain p99 "
              f"{other['explain_p99'] * 1000:.1f} ms")
        each = ", ".join(f"{o['rps']:.1f}/{t['rps']:.1f}" for o, t, _ in rounds if t)
        print(f"  ours / other server: {sorted(ratios)[len(ratios) // 2]:.2f}x (median of "
              f"{len(rounds)} round(s), ours/other ISCC/s: {each})")
    print(f"  ceiling (iscc_job on {args.workers} processes, no HTTP): {top['rps']:.1f} jobs/s")
    each = ", ".join(f"{o['rps']:.1f}/{c['rps']:.1f}" for o, _, c in rounds)
    print(f"  HTTP / ceiling: {sorted(shares)[median] * 100:.0f} % (median of {len(rounds)} "
          f"round(s), HTTP/ceiling per round: {each})")
    bound = top["job_ms"] / (load["server_ms"] + load["workers_ms"])
    print(f"  CPU per ISCC, ms: server process {load['server_ms']:.2f} (with the explain "
          f"probe's requests) + its workers "
          f"{load['workers_ms']:.2f}; ceiling job {top['job_ms']:.2f}; so with every core busy "
          f"HTTP / ceiling could reach at most {bound * 100:.0f} % in this round")
    print(f"  GET /api/v1/explain during load: p99 {load['explain_p99'] * 1000:.1f} ms "
          f"({load['explain_n']} requests, every 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
