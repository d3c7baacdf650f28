"""Asynchronous jobs: how soon a large upload gets its 202, and the events of a long video.

Usage: ``python -m bench jobs [--size-mib 500] [--repeat 3] [--video-seconds 600]``.

1. A raw-socket client POSTs ``--size-mib`` of seeded random bytes to /api/v1/iscc with
   ``Prefer: respond-async`` and notes the seconds from its last byte to the ``202`` status
   line (the answer comes once the upload is stored), next to the same upload without
   ``Prefer`` (last byte to the ``201``, processing included).
2. ffmpeg makes a long test video (``testsrc`` + a sine tone, 320x240); it is posted with
   ``Prefer: respond-async`` and a client follows ``/jobs/{id}/events``: every event
   (``seq``, status, phase, seconds since the 202) and heartbeat is printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.bench_sum import MiB, large_upload_server, upload


def make_video(path: Path, seconds: int) -> None:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i",
         f"testsrc=size=320x240:rate=10:duration={seconds}", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-shortest", "-y", str(path)], check=True)


def follow(base: str, video: Path) -> tuple[list[str], float, str]:
    """Post the video asynchronously and print its events; return lines, total s, status."""
    name = base64.b64encode(video.name.encode()).decode()
    lines: list[str] = []
    with httpx.Client(base_url=base, timeout=httpx.Timeout(60, read=None)) as client:
        start = time.perf_counter()
        r = client.post("/api/v1/iscc", content=video.read_bytes(),
                        headers={"X-Upload-Filename": name, "Content-Type": "video/mp4",
                                 "Prefer": "respond-async"})
        accepted = time.perf_counter()
        if r.status_code != 202:
            raise RuntimeError(f"no 202: {r.status_code} {r.text[:300]}")
        lines.append(f"  202 after {accepted - start:6.3f} s (upload of "
                     f"{video.stat().st_size / MiB:.1f} MiB included)")
        status, seq = "", ""
        with client.stream("GET", f"/api/v1/jobs/{r.json()['job_id']}/events") as events:
            for line in events.iter_lines():
                at = time.perf_counter() - accepted
                if line.startswith(": heartbeat"):
                    lines.append(f"  {at:8.3f} s  (heartbeat)")
                elif line.startswith("id:"):
                    seq = line[3:].strip()
                elif line.startswith("data:"):
                    job = json.loads(line[5:])
                    status = job["status"]
                    extra = f" queued_ahead={job['queued_ahead']}" if status == "queued" else ""
                    lines.append(f"  {at:8.3f} s  event {seq:>2}: {status:<10} {job['phase']}"
                                 f"{extra}  (elapsed_s {job['elapsed_s']})")
        return lines, time.perf_counter() - accepted, status


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--video-seconds", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        work = Path(tmp)
        video = work / "long-video.mp4"
        make_video(video, args.video_seconds)
        proc, port, payload = large_upload_server(work, size, args.workers,
                                                  "process_timeout = 3600\n")
        accepted, created = [], []
        try:
            for _ in range(args.repeat):
                _, waited, answer = upload(port, payload, "Prefer: respond-async\r\n")
                if not answer.startswith(b"HTTP/1.1 202"):
                    raise RuntimeError(f"no 202: {answer[:300]!r}")
                accepted.append(waited)
                job_id = json.loads(answer.split(b"\r\n\r\n", 1)[1])["job_id"]
                with httpx.Client(timeout=600) as client:  # let it finish before the next
                    while client.get(f"http://127.0.0.1:{port}/api/v1/jobs/{job_id}").json()[
                            "status"] not in ("done", "failed"):
                        time.sleep(0.05)
                _, waited, answer = upload(port, payload)
                if not answer.startswith(b"HTTP/1.1 201"):
                    raise RuntimeError(f"no 201: {answer[:300]!r}")
                created.append(waited)
                for package in (work / "media").iterdir():
                    shutil.rmtree(package, ignore_errors=True)
            lines, total, status = follow(f"http://127.0.0.1:{port}", video)
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"\n{args.size_mib} MiB upload (random bytes) to POST /api/v1/iscc, median of "
          f"{args.repeat}:")
    print(f"  Prefer: respond-async  last byte -> 202: {statistics.median(accepted):.3f} s "
          f"(all: {', '.join(f'{w:.3f}' for w in accepted)})")
    print(f"  no Prefer              last byte -> 201: {statistics.median(created):.3f} s "
          f"(all: {', '.join(f'{w:.3f}' for w in created)})")
    print(f"\nEvents of a {args.video_seconds} s video (320x240, 10 fps, with audio), "
          f"Prefer: respond-async, GET /jobs/{{id}}/events:")
    print("\n".join(lines))
    print(f"  stream ended after {total:.3f} s with status {status}")


if __name__ == "__main__":
    main()
