"""A large upload that gets an ISCC-SUM: seconds from its last byte to the 201.

Usage: ``python -m bench sum [--size-mib 1024] [--repeat 3]``. The body is seeded random
bytes (no media type, so iscc-sdk falls back to the 2-unit ISCC-SUM of Data- and
Instance-Code). A raw-socket client with a small send buffer POSTs it to /api/v1/iscc with a
Content-Length and notes when its last byte left and when the status line came back.
"""

from __future__ import annotations

import argparse
import base64
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.bench_iscc import start_and_first_201, write_config
from bench.procs import PeakRss, free_port

MiB = 1024 * 1024
#: Small send buffer: when sendall returns, the server has read all but ~this many bytes.
SEND_BUFFER = 256 * 1024


def make_random_payload(path: Path, size: int) -> None:
    rng = random.Random(18)
    with path.open("wb") as fh:
        for _ in range(size // MiB):
            fh.write(rng.randbytes(MiB))


def large_upload_server(work: Path, size: int, workers: int, extra: str = ""
                        ) -> tuple[subprocess.Popen, int, Path]:
    """A random payload of ``size`` bytes in ``work`` and a server that accepts it (twice the
    size as its upload limit, plus ``extra`` kernel settings), started and answering.

    Returns: the server process, its port and the payload's path.
    """
    payload = work / "payload.bin"
    make_random_payload(payload, size)
    config = write_config(work, workers)
    config.write_text(config.read_text() + f"max_upload_size = {2 * size}\n" + extra)
    port = free_port()
    proc, _ = start_and_first_201(config, port, work / "server.log")
    return proc, port, payload


def upload(port: int, payload: Path, extra: str = "") -> tuple[float, float, bytes]:
    """POST ``payload`` (``extra``: more header lines, each ending in CRLF); return (seconds
    sending, seconds from its last byte to the status line, the whole answer)."""
    size = payload.stat().st_size
    name = base64.b64encode(b"payload.bin").decode()
    head = (f"POST /api/v1/iscc HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"X-Upload-Filename: {name}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {size}\r\n{extra}Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port)) as sock, payload.open("rb") as fh:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        start = time.perf_counter()
        sock.sendall(head)
        while block := fh.read(MiB):
            sock.sendall(block)
        last_byte = time.perf_counter()
        answer = b""
        while b"\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
        status_at = time.perf_counter()
        while b"\r\n\r\n" not in answer and (more := sock.recv(65536)):
            answer += more
        head_end = answer.find(b"\r\n\r\n") + 4
        length = int(answer.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(answer) < head_end + length and (more := sock.recv(65536)):
            answer += more
    return last_byte - start, status_at - last_byte, answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="bench-sum-") as tmp:
        work = Path(tmp)
        proc, port, payload = large_upload_server(work, size, args.workers)
        sending, waiting, growth = [], [], 0.0
        try:
            for _ in range(args.repeat):
                with PeakRss(proc.pid) as rss:
                    sent, waited, answer = upload(port, payload)
                if not answer.startswith(b"HTTP/1.1 201"):
                    raise RuntimeError(f"upload failed: {answer[:300]!r}")
                sending.append(sent)
                waiting.append(waited)
                growth = max(growth, (rss.peak - rss.baseline) / 1024)
                for package in (work / "media").iterdir():
                    if package.is_dir() and not package.name.startswith("."):
                        shutil.rmtree(package)
        finally:
            proc.terminate()
            proc.wait(30)
    code = answer.split(b'"iscc":')[1].split(b",")[0].decode().strip()
    print(f"\nISCC-SUM of a {args.size_mib} MiB upload (random bytes), POST /api/v1/iscc, "
          f"median of {args.repeat}: {code}")
    print(f"  upload {size / statistics.median(sending) / 1e6:7.0f} MB/s   last byte -> 201: "
          f"{statistics.median(waiting):.3f} s (all: "
          f"{', '.join(f'{w:.3f}' for w in waiting)})   server RSS growth {growth:.1f} MiB")


if __name__ == "__main__":
    main()
