"""Helpers shared by the benchmarks: start servers as processes, sample their memory."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile of ``values`` (nearest rank; NaN for none)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu(root: int) -> tuple[float, float]:
    """CPU seconds (user + system) used so far by ``root`` and by its living descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    own = descendants = 0.0
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            fields = _stat(pid)
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if pid == root:
            own = used
        else:
            descendants += used
        todo += children.get(pid, [])
    return own, descendants


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakRss:
    """Samples a process's RSS every 20 ms in a thread; ``peak`` is the highest seen."""

    def __init__(self, pid: int):
        self.pid = pid
        self.baseline = rss_kib(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_ready(url: str, timeout: float = 30.0) -> float:
    """Poll ``url`` until it answers; return the seconds it took."""
    start = time.perf_counter()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.perf_counter() - start
        except OSError:
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"server at {url} did not start") from None
            time.sleep(0.05)


@contextlib.contextmanager
def running(cmd: list[str], ready_url: str, env: dict[str, str] | None = None,
            log: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run a server process until the block ends."""
    sink = open(log or os.devnull, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_ready(ready_url)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sink.close()


def kernel_server(config: Path, port: int, log: Path | None = None
                  ) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """Our server (``python -m kernel``) with ``config`` on 127.0.0.1:``port``."""
    return running([sys.executable, "-m", "kernel", "--config", str(config),
                    "--bind", f"127.0.0.1:{port}"],
                   f"http://127.0.0.1:{port}/api/v1/-/status", log=log)


class KeepAliveClient:
    """A lean HTTP/1.1 client on one kept-alive connection, for load generators.

    It sends each request in one ``sendall`` and parses only the status line,
    ``Content-Length`` and ``Connection: close`` (after which it connects anew): a benchmark
    client that shares the machine's cores with the server should cost the server as little
    CPU as it can (httpx costs ~1 ms per small POST here, about a fifth of a whole ISCC job).
    Answers must carry a ``Content-Length`` (ours do).
    """

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.host = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"  # IPv6 in []
        self._address = (host, port)
        self._connect()

    def _connect(self) -> None:
        self.sock = socket.create_connection(self._address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def request(self, method: str, path: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Send one request; return (status, body)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return self._answer()

    def _fill(self) -> None:
        more = self.sock.recv(262144)
        if not more:
            raise ConnectionError("the server closed the connection")
        self._buffer += more

    def _answer(self) -> tuple[int, bytes]:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            self._fill()
        head, self._buffer = self._buffer[:end], self._buffer[end + 4:]
        status = int(head[9:12])
        length = 0
        closing = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                closing = value.strip().lower() == b"close"
        while len(self._buffer) < length:
            self._fill()
        answer, self._buffer = self._buffer[:length], self._buffer[length:]
        if closing:  # e.g. hypercorn's keep_alive_max_requests: go on on a new connection
            self.sock.close()
            self._connect()
        return status, answer

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> KeepAliveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
