"""The media mix: every iscc-samples file through POST /api/v1/iscc, next to iscc-sdk alone.

Usage: ``python -m bench mix [--clients 4] [--workers 2] [--repeat 1]``.

1. HTTP: a server with ``--workers`` worker processes; ``--clients`` threads POST every sample
   file (``--repeat`` times, in the same shuffled order) until all are done.
2. In-process: the same files through the same job (``iscc_job``: iscc-sdk's ``code_iscc`` plus
   the JSON dump) in ``--workers`` processes, every one kept busy, no HTTP at all.

Reported: wall time and files/s of each, and their ratio (HTTP / in-process). A file that
fails (422) counts as done in both, so both sides do the same work.
"""

from __future__ import annotations

import argparse
import base64
import mimetypes
import multiprocessing
import queue
import random
import shutil
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import iscc_samples

from bench.bench_iscc import start_and_first_201, write_config
from bench.procs import free_port


def sample_files() -> list[Path]:
    return sorted(Path(p) for p in iscc_samples.all())


def http_run(base: str, files: list[Path], clients: int) -> tuple[float, dict[int, int]]:
    jobs: queue.SimpleQueue[tuple[str, bytes, str]] = queue.SimpleQueue()
    for path in files:
        jobs.put((path.name, path.read_bytes(), mimetypes.guess_type(path.name)[0] or ""))
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            while True:
                try:
                    name, data, content_type = jobs.get_nowait()
                except queue.Empty:
                    return
                headers = {"X-Upload-Filename": base64.b64encode(name.encode()).decode()}
                if content_type:
                    headers["Content-Type"] = content_type
                status = http.post("/api/v1/iscc", content=data, headers=headers).status_code
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, statuses


def _job(path: str) -> bool:
    from plugins._processing.errors import ProcessingFailed
    from plugins._processing.work import iscc_job

    try:
        iscc_job(path, False, None)
    except ProcessingFailed:
        return False
    return True


def in_process_run(files: list[Path], workers: int, work: Path) -> tuple[float, int]:
    from plugins._processing.settings import ProcessingSettings
    from plugins._processing.work import init_worker

    copies = []
    for i, path in enumerate(files):
        target = work / f"{i}" / path.name
        target.parent.mkdir(parents=True)
        shutil.copy(path, target)
        copies.append(str(target))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker,
                             initargs=(ProcessingSettings().worker_config(),)) as pool:
        list(pool.map(_job, copies[:workers]))  # warm: imports, Tika start
        start = time.perf_counter()
        ok = sum(pool.map(_job, copies, chunksize=1))  # every worker kept busy
        elapsed = time.perf_counter() - start
    return elapsed, ok


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    files = sample_files() * args.repeat
    random.Random(18).shuffle(files)
    with tempfile.TemporaryDirectory(prefix="bench-mix-") as tmp:
        work = Path(tmp)
        config = write_config(work, args.workers)
        proc, _ = start_and_first_201(config, free_port(), work / "server.log")
        port = next(a for a in proc.args if a.startswith("127.0.0.1:")).rsplit(":", 1)[1]
        try:
            base = f"http://127.0.0.1:{port}"
            http_run(base, sample_files()[:args.workers * 2], args.clients)  # warm the workers
            http_seconds, statuses = http_run(base, files, args.clients)
        finally:
            proc.terminate()
            proc.wait(30)
        local_seconds, ok = in_process_run(files, args.workers, work / "local")
    total = sum(p.stat().st_size for p in files)
    print(f"\nMedia mix: {len(files)} files ({total / 1e6:.1f} MB, every iscc-samples file x "
          f"{args.repeat}), {args.clients} clients, {args.workers} worker processes")
    print(f"  HTTP POST /api/v1/iscc: {http_seconds:6.1f} s  {len(files) / http_seconds:5.2f} "
          f"files/s  statuses {dict(sorted(statuses.items()))}")
    print(f"  iscc-sdk in {args.workers} processes: {local_seconds:6.1f} s  "
          f"{len(files) / local_seconds:5.2f} files/s  ({ok} ok)")
    print(f"  HTTP / in-process: {local_seconds / http_seconds:.2f}")


if __name__ == "__main__":
    main()
