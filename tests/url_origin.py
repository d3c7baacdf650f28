"""A real HTTP origin on a loopback address for the URL intake tests (stdlib server, a thread).

Paths: ``/samples/<relative path>`` (iscc-samples files), ``/chain/<n>`` (n redirects, then
the PNG sample), ``/to?location=...`` (one redirect there), ``/slow`` (headers, then nothing
for 30 s), ``/endless`` (a chunked body that never ends), ``/missing`` (404), ``/named``
(the PNG with a ``Content-Disposition`` name), ``/unsized`` (no Content-Length, close-delimited),
``/echo-host`` (the ``Host`` header it received). ``requests`` counts what arrived.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.iscc_fixtures import PNG_SAMPLE, SAMPLES


class Origin:
    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.requests: list[str] = []
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


def _handler(origin_box: list[Origin]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return None

        def _send(self, status: int, body: bytes, content_type: str = "application/octet-stream",
                  extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, location: str) -> None:
            self._send(302, b"", extra={"Location": location})

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            origin_box[0].requests.append(self.path)
            parts = urlsplit(self.path)
            path = parts.path
            if path.startswith("/samples/"):
                target = (SAMPLES / path.removeprefix("/samples/")).resolve()
                if SAMPLES.resolve() in target.parents and target.is_file():
                    kind = "image/png" if target.suffix == ".png" else "application/octet-stream"
                    self._send(200, target.read_bytes(), kind)
                else:
                    self._send(404, b"no such sample", "text/plain")
            elif path.startswith("/chain/"):
                left = int(path.removeprefix("/chain/"))
                self._redirect(f"/chain/{left - 1}" if left > 1 else "/samples/image/demo.png")
            elif path == "/to":
                self._redirect(parse_qs(parts.query)["location"][0])
            elif path == "/slow":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.flush()
                origin_box[0].stopping.wait(30)
            elif path == "/endless":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    while not origin_box[0].stopping.is_set():
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except OSError:  # the client gave up: good
                    return
            elif path == "/missing":
                self._send(404, b"not here", "text/plain")
            elif path == "/named":
                self._send(200, PNG_SAMPLE.read_bytes(), "image/png",
                           {"Content-Disposition": "attachment; filename*=UTF-8''caf%C3%A9.png"})
            elif path == "/unsized":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(PNG_SAMPLE.read_bytes())
                self.close_connection = True
            elif path == "/echo-host":
                self._send(200, (self.headers.get("Host") or "").encode(), "text/plain")
            else:
                self._send(404, b"unknown", "text/plain")

    return Handler


@contextmanager
def running_origin(host: str = "127.0.0.2") -> Iterator[Origin]:
    box: list[Origin] = []
    server = ThreadingHTTPServer((host, 0), _handler(box))
    server.daemon_threads = True
    origin = Origin(server)
    box.append(origin)
    thread = threading.Thread(target=server.serve_forever, name="url-origin", daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        origin.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
