"""A recording HTTP relay between a server under test and the real SeaweedFS, on 127.0.0.1.

Every request the store receives passes through a real TCP connection of this relay, which
notes its method, path and headers, and can lose the answer of chosen requests: the request
reaches the store, then the relay closes the client's connection without answering (what a
network cut after the write looks like to the client). Plain threads and sockets; nothing of
the backend under test is replaced.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator

import attrs

from tests.s3_fixtures import BUCKET


@attrs.frozen
class Seen:
    """One request as the store received it."""

    method: str
    key: str  # the object key (URL-decoded), "" for the bucket itself
    query: str
    headers: dict[str, str]


def _read_head(sock: socket.socket, buffer: bytearray) -> bytes | None:
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            return None
        buffer += data
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    buffer[:] = rest
    return head


def _body(sock: socket.socket, buffer: bytearray, size: int) -> Iterator[bytes]:
    """The next ``size`` bytes from ``sock`` (after what ``buffer`` holds), as they arrive."""
    while size > 0:
        if not buffer:
            data = sock.recv(min(1 << 20, size))
            if not data:
                raise ConnectionError("client closed mid-body")
            buffer += data
        piece = bytes(buffer[:size])
        del buffer[:len(piece)]
        size -= len(piece)
        yield piece


class StoreProxy:
    """Relays to ``upstream`` (``host, port``) and records what passes (see the module doc)."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.seen: list[Seen] = []
        self._lose: Callable[[Seen], bool] | None = None
        self._times: int | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def lose(self, predicate: Callable[[Seen], bool] | None, times: int | None = None) -> None:
        """Lose the answers of the requests ``predicate`` accepts: ``times`` of them, or all
        until the next call (``None``: lose nothing). Each still reaches the store."""
        with self._lock:
            self._lose, self._times = predicate, times

    @property
    def losing(self) -> bool:
        with self._lock:
            return self._lose is not None

    def _to_lose(self, seen: Seen) -> bool:
        with self._lock:
            if self._lose is None or not self._lose(seen):
                return False
            if self._times is not None:
                self._times -= 1
                if self._times == 0:
                    self._lose = None
            return True

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        pump = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        pump.start()
        buffer = bytearray()
        try:
            while (head := _read_head(client, buffer)) is not None:
                seen, length = self._parse(head)
                with self._lock:
                    self.seen.append(seen)
                if self._to_lose(seen):
                    body = b"".join(_body(client, buffer, length))
                    self._send_unanswered(head + b"\r\n\r\n" + body)
                    return
                upstream.sendall(head + b"\r\n\r\n")  # at once: the client may wait for 100
                for piece in _body(client, buffer, length):
                    upstream.sendall(piece)
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _send_unanswered(self, request: bytes) -> None:
        """Send ``request`` on a connection of its own and wait for its whole answer."""
        with socket.create_connection(self.upstream) as side:
            side.sendall(request)
            side.shutdown(socket.SHUT_WR)
            while side.recv(65536):
                pass

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    @staticmethod
    def _parse(head: bytes) -> tuple[Seen, int]:
        line, *fields = head.decode("latin-1").split("\r\n")
        method, target, _ = line.split(" ", 2)
        headers = {}
        for field in fields:
            name, _, value = field.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", ""):
            raise OSError("chunked request bodies are not relayed")
        path, _, query = target.partition("?")
        key = urllib.parse.unquote(path).removeprefix(f"/{BUCKET}").removeprefix("/")
        return Seen(method, key, query, headers), int(headers.get("content-length", "0"))


@contextlib.contextmanager
def store_proxy(endpoint: str) -> Iterator[StoreProxy]:
    """A :class:`StoreProxy` in front of the store at ``endpoint`` (``http://host:port``)."""
    url = urllib.parse.urlsplit(endpoint)
    assert url.hostname is not None
    assert url.port is not None
    proxy = StoreProxy((url.hostname, url.port))
    try:
        yield proxy
    finally:
        proxy.close()
