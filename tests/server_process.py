"""A real server program run by a test: started on a free port, awaited, always stopped."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server_process(command: Sequence[str], *, ready_url: str, log_path: Path, cwd: Path,
                   env: Mapping[str, str], name: str, timeout: float = 60.0) -> Iterator[None]:
    """Run ``command`` (output to ``log_path``) until ``ready_url`` answers 200; stop it
    (SIGTERM, then SIGKILL after 30 s) when the block ends.

    Raises:
        RuntimeError: the program exited or did not become ready in ``timeout`` seconds.
    """
    with log_path.open("wb") as log:
        proc = subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited: {log_path.read_text()[-2000:]}")
                try:
                    if httpx.get(ready_url, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not become ready")
                time.sleep(0.1)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
