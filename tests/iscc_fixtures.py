"""Shared helpers for the processing-plugin tests: a real server in a thread, shared per module.

Worker processes import iscc-sdk once (~1 s), so each test module starts one app and one pool
and runs all its tests against it over real HTTP (hypercorn on 127.0.0.1), instead of paying
for a fresh pool per test. Sync tests use a plain ``httpx.Client``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import iscc_samples
import trio

from kernel import create_app
from kernel.context import runtime_of
from kernel.serve import hypercorn_config, serve_hypercorn
from tests.conftest import upload_headers

PROCESSING = ["media", "explain", "iscc", "metadata", "simprint"]
SAMPLES = Path(iscc_samples.images()[0]).parents[1]
IMAGE_SAMPLE = Path(iscc_samples.images()[0])  # demo.bmp: the contract's test-image.jpg
PNG_SAMPLE = SAMPLES / "image" / "demo.png"
#: An owner identity no test client has (the incumbent's "64 zeros" package).
FOREIGN_USER = "0" * 64


def sample(relative: str) -> Path:
    return SAMPLES / relative


def build_app(media_path: Path, kernel: dict[str, Any] | None = None,
              plugin: dict[str, Any] | None = None, plugins: dict[str, object] | None = None,
              env: dict[str, str] | None = None) -> Any:
    table = {"media_path": str(media_path), "cleanup_interval": 0, "max_workers": 2,
             "log_level": "WARNING", "warm_workers": True, "plugins": PROCESSING}
    table.update(kernel or {})
    return create_app({"kernel": table, "plugin": plugin or {}}, env=env or {}, plugins=plugins)


@contextmanager
def threaded_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with hypercorn in its own thread and Trio loop; yield the base URL."""
    box: dict[str, Any] = {}
    ready = threading.Event()

    async def main() -> None:
        config = hypercorn_config(runtime_of(app).settings.kernel, "127.0.0.1:0")
        config.graceful_timeout = 2
        stop = trio.Event()
        box["stop"], box["token"] = stop, trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            box["url"] = (await nursery.start(partial(serve_hypercorn, app, config,
                                                      shutdown_trigger=stop.wait)))[0]
            ready.set()

    def run() -> None:
        try:
            trio.run(main)
        except BaseException as exc:  # surfaced to the fixture below
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="iscc-test-server", daemon=True)
    thread.start()
    ready.wait(120)
    if "url" not in box:
        raise RuntimeError(f"test server did not start: {box.get('error')!r}")
    try:
        yield box["url"]
    finally:
        trio.from_thread.run_sync(box["stop"].set, trio_token=box["token"])
        thread.join(60)


@contextmanager
def live_client(app: Any) -> Iterator[httpx.Client]:
    # No keep-alive: a request the server rejects before reading its body closes the
    # connection, and a pooled connection could race with that close.
    limits = httpx.Limits(max_keepalive_connections=0)
    with threaded_server(app) as url, httpx.Client(base_url=url, timeout=120,
                                                   limits=limits) as client:
        yield client


def raw_status(base_url: str, head: bytes, parts: Iterable[bytes] = ()) -> int:
    """Send a hand-written request (head, then ``parts``) and return the response status."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
        sock.sendall(head)
        for part in parts:
            sock.sendall(part)
        received = b""
        while b"\r\n" not in received:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    return int(received.split(b" ", 2)[1])


def post_file(client: httpx.Client, path: Path, name: str | None = None,
              content_type: str | None = None, params: dict[str, str] | None = None,
              url: str = "/api/v1/iscc") -> httpx.Response:
    return client.post(url, content=path.read_bytes(), params=params,
                       headers=upload_headers(name or path.name, content_type))


def packages(media_path: Path) -> set[str]:
    """Media ids of the packages currently stored."""
    if not media_path.is_dir():
        return set()
    return {p.name for p in media_path.iterdir() if p.is_dir() and not p.name.startswith(".")}


def make_package(media_path: Path, media_id: str, file_name: str, data: bytes | None,
                 user: str = FOREIGN_USER, content_type: str = "") -> None:
    """Write a package straight into the fs storage layout (``data=None``: no file)."""
    package = media_path / media_id
    package.mkdir(parents=True)
    meta = {"media_id": media_id, "file_name": file_name, "content_type": content_type,
            "user": user}
    (package / f"{media_id}.meta.json").write_text(json.dumps(meta))
    if data is not None:
        (package / file_name).write_bytes(data)


def assert_problem(response: httpx.Response, status: int, detail: str | None = None) -> dict:
    """The response is an RFC 9457 problem with ``status`` (and ``detail`` if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    if detail is not None:
        assert body["detail"] == detail
    assert "Traceback" not in response.text
    assert os.sep + "tmp" not in body["detail"]
    return body
