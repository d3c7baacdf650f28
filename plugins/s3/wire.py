"""One keep-alive HTTP/1.1 connection to the store, spoken directly: blocking, for a thread.

:mod:`http.client` parses each answer's head through the ``email`` package and sends the head
and the body of a request in separate calls. A claimless small ``POST /iscc`` makes three
store requests, so that was a measurable share of the server's CPU: a 200 B PUT to SeaweedFS
took 280-360 us of the sending thread's CPU through http.client and ~130 us here (53 KB:
350-420 vs ~240 us). Only what the single-key requests need is spoken: a request with a
``Content-Length`` body (head and a small body in one send), answers framed by
``Content-Length``, ``chunked`` or the end of the connection.
"""

from __future__ import annotations

import re
import socket
import ssl

#: The longest answer head read (status line and headers).
MAX_HEAD = 64 * 1024
#: Bodies up to this size go out in the same send as the head (one copy, one packet train).
JOINED_BODY = 256 * 1024
_BAD_HEADER = re.compile(r"[\x00-\x1f\x7f]")


class WireError(OSError):
    """The answer could not be read: the connection closed early, or the answer is malformed."""


class ClosedEarly(WireError):
    """The connection was closed before any byte of the answer (a kept connection that the
    store had closed meanwhile: the request can be sent again on a fresh one)."""


class Connection:
    """A TCP (or TLS) connection to ``host:port`` with the given timeouts (seconds)."""

    def __init__(self, host: str, port: int, *, tls: ssl.SSLContext | None,
                 connect_timeout: float, read_timeout: float):
        sock = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=host)
            sock.settimeout(read_timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._buffer = bytearray()

    def close(self) -> None:
        self.sock.close()

    def exchange(self, method: str, path: str, headers: dict[str, str], body: bytes,
                 error_limit: int) -> tuple[int, dict[str, str], bytes, bool]:
        """Send one request, read its answer: ``(status, headers, body, reusable)``.

        Header names are lower-case in the answer; repeated ones are joined with ``", "``. At
        most ``error_limit`` bytes of an answer other than 2xx are read; the connection is
        ``reusable`` only when the whole answer was read and the store keeps it open.

        Raises:
            ValueError: a header name or value holds a control character (nothing was sent).
            ClosedEarly, WireError, OSError: as their names say.
        """
        lines = [f"{method} {path} HTTP/1.1"]
        for name, value in headers.items():
            if _BAD_HEADER.search(name) or _BAD_HEADER.search(value) or ":" in name:
                raise ValueError("invalid header")
            lines.append(f"{name}: {value}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if len(body) <= JOINED_BODY:
            self.sock.sendall(head + body)
        else:
            self.sock.sendall(head)
            self.sock.sendall(body)
        status, answer_headers, keep = self._read_head()
        while 100 <= status < 200:  # informational answers (never asked for) are skipped
            status, answer_headers, keep = self._read_head()
        if method == "HEAD" or status in (204, 304):
            return status, answer_headers, b"", keep
        body_limit = None if 200 <= status < 300 else error_limit
        if "chunked" in answer_headers.get("transfer-encoding", "").lower():
            data = self._read_chunked()
        elif "content-length" in answer_headers:
            length = int(answer_headers["content-length"])
            if length < 0:
                raise WireError("negative content-length")
            if body_limit is not None and length > body_limit:
                return status, answer_headers, self._read_exact(body_limit), False
            data = self._read_exact(length)
        else:  # framed by the end of the connection
            data, keep = self._read_to_end(body_limit), False
        if body_limit is not None and len(data) > body_limit:
            data, keep = data[:body_limit], False
        return status, answer_headers, data, keep and not self._buffer

    # --- reading ------------------------------------------------------------------------

    def _fill(self, first: bool = False) -> None:
        data = self.sock.recv(65536)
        if not data:
            if first and not self._buffer:
                raise ClosedEarly("connection closed before the answer")
            raise WireError("connection closed within the answer")
        self._buffer += data

    def _read_head(self) -> tuple[int, dict[str, str], bool]:
        first = True
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > MAX_HEAD:
                raise WireError("answer head too large")
            self._fill(first)
            first = False
        raw = bytes(self._buffer[:end]).decode("latin-1")
        del self._buffer[:end + 4]
        status_line, *fields = raw.split("\r\n")
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise WireError("malformed status line")
        headers: dict[str, str] = {}
        for field in fields:
            name, colon, value = field.partition(":")
            if not colon:
                raise WireError("malformed header")
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        closing = "close" in headers.get("connection", "").lower()
        return int(code), headers, version == "HTTP/1.1" and not closing

    def _read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _read_line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > MAX_HEAD:
                raise WireError("chunk line too long")
            self._fill()
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 2]
        return line

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_text = self._read_line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise WireError("malformed chunk size") from None
            if size == 0:
                while self._read_line():  # trailers, up to the empty line
                    pass
                return b"".join(parts)
            parts.append(self._read_exact(size))
            if self._read_line():
                raise WireError("malformed chunk end")

    def _read_to_end(self, limit: int | None) -> bytes:
        while limit is None or len(self._buffer) <= limit:
            data = self.sock.recv(65536)
            if not data:
                break
            self._buffer += data
        data = bytes(self._buffer)
        self._buffer.clear()
        return data
