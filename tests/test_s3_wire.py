"""The store connection's own HTTP/1.1 (plugins/s3/wire.py) against crafted answers on real sockets.

SeaweedFS frames every answer the backend asks for with ``Content-Length``; other stores may
use ``chunked``, close the connection after an answer, or send long error bodies. A loopback
server written here sends exactly such answers, byte for byte, and records what it received.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from plugins.s3.wire import ClosedEarly, Connection, WireError


class Scripted:
    """Answers the n-th request on a connection with ``answers[n]`` (bytes, or ``None``: close)."""

    def __init__(self, answers: list[bytes | None]):
        self.answers = answers
        self.received: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            buffer = b""
            for answer in self.answers:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                self.received.append(head + b"\r\n\r\n" + buffer[:length])
                buffer = buffer[length:]
                if answer is None:
                    return
                conn.sendall(answer)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def serve() -> Iterator[type[Scripted]]:
    made: list[Scripted] = []

    def make(answers: list[bytes | None]) -> Scripted:
        server = Scripted(answers)
        made.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in made:
        server.close()


def connect(server: Scripted) -> Connection:
    return Connection("127.0.0.1", server.port, tls=None, connect_timeout=2, read_timeout=5)


def test_a_kept_connection_carries_requests_with_each_framing(serve) -> None:
    server = serve([
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"a\"\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n"
        b"X-Amz-Meta-Upload: t1\r\nX-Amz-Meta-Upload: t2\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ])
    conn = connect(server)
    try:
        status, headers, body, reusable = conn.exchange(
            "PUT", "/b/k", {"content-type": "text/plain", "content-length": "4"}, b"data",
            error_limit=100)
        assert (status, headers["etag"], body, reusable) == (200, '"a"', b"hello", True)
        assert conn.exchange("GET", "/b/k", {}, b"", error_limit=100)[2:] == (b"abcdefg", True)
        status, headers, body, reusable = conn.exchange("HEAD", "/b/k", {}, b"", error_limit=100)
        assert (status, headers["x-amz-meta-upload"], body) == (200, "t1, t2", b"")
        assert reusable  # a HEAD answer has no body, whatever its Content-Length says
        assert conn.exchange("PUT", "/b/e", {"content-length": "0"}, b"",
                             error_limit=100)[0] == 204
    finally:
        conn.close()
    assert server.received[0].endswith(b"\r\n\r\ndata")
    assert server.received[0].startswith(b"PUT /b/k HTTP/1.1\r\ncontent-type: text/plain\r\n")


def test_an_answer_framed_by_closing_is_read_and_the_connection_not_kept(serve) -> None:
    server = serve([b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"])
    conn = connect(server)
    try:
        assert conn.exchange("GET", "/b/k", {}, b"", error_limit=100) == (
            200, {"connection": "close"}, b"until the end", False)
    finally:
        conn.close()


def test_a_long_error_body_is_cut_at_the_limit_and_the_connection_dropped(serve) -> None:
    error = b"<Error><Code>SlowDown</Code>" + b"x" * 5000 + b"</Error>"
    server = serve([b"HTTP/1.1 503 Slow Down\r\nContent-Length: %d\r\n\r\n" % len(error) + error])
    conn = connect(server)
    try:
        status, _, body, reusable = conn.exchange("GET", "/b/k", {}, b"", error_limit=64)
        assert (status, body, reusable) == (503, error[:64], False)
    finally:
        conn.close()


def test_a_connection_closed_before_the_answer_says_so(serve) -> None:
    server = serve([None])
    conn = connect(server)
    try:
        with pytest.raises(ClosedEarly):
            conn.exchange("GET", "/b/k", {}, b"", error_limit=100)
    finally:
        conn.close()


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # then closed
    b"SMTP ready\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_a_broken_answer_is_a_wire_error(serve, answer: bytes) -> None:
    server = serve([answer])  # then closed
    conn = connect(server)
    try:
        with pytest.raises(WireError):
            conn.exchange("GET", "/b/k", {}, b"", error_limit=100)
    finally:
        conn.close()


@pytest.mark.parametrize("headers", [{"content-type": "text/plain\r\nx-injected: 1"},
                                     {"x-a\nb": "v"}, {"x-a:b": "v"}])
def test_control_characters_in_a_header_are_refused_before_sending(serve, headers) -> None:
    server = serve([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    conn = connect(server)
    try:
        with pytest.raises(ValueError, match="invalid header"):
            conn.exchange("PUT", "/b/k", headers, b"", error_limit=100)
        assert conn.exchange("GET", "/b/k", {}, b"", error_limit=100)[0] == 200
    finally:
        conn.close()
    assert len(server.received) == 1
    assert b"injected" not in server.received[0]
