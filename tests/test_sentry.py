"""Error reports reach a real HTTP endpoint on 127.0.0.1 (a DSN pointing at it), scrubbed."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli
import pytest
from quart import Blueprint

from kernel import API_PREFIX, ServiceUnavailable, hookimpl, run_sync
from plugins.sentry.scrub import scrub_text
from tests import iscc_faults_plugin, workfns
from tests.conftest import plugin_object, upload_headers

SECRET_NAME = "holiday-at-grandmas"


class Receiver:
    """An HTTP server that accepts Sentry envelopes and keeps them decoded."""

    def __init__(self) -> None:
        self.envelopes: list[list[dict[str, Any]]] = []
        self.raw: list[bytes] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    body = brotli.decompress(body)
                receiver.raw.append(body)
                receiver.paths.append(self.path)
                receiver.envelopes.append(
                    [json.loads(line) for line in body.splitlines() if line.strip()])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_port}/42"

    def events(self) -> list[dict[str, Any]]:
        """Event payloads (envelope items whose header says ``event``)."""
        found = []
        for envelope in self.envelopes:
            for header, payload in zip(envelope[1::2], envelope[2::2], strict=False):
                if header.get("type") == "event":
                    found.append(payload)
        return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        thread.join()


failing = Blueprint("failing", __name__, url_prefix=API_PREFIX)


@failing.get("/failing/boom")
async def boom() -> dict:
    raise RuntimeError(f"cannot open '/srv/media/06abc/{SECRET_NAME}.jpg' for 127.0.0.1 "
                       "(peer 2001:db8::7)")


@failing.get("/failing/busy")
async def busy() -> dict:
    raise ServiceUnavailable("Busy.")


@failing.get("/failing/die")
async def die() -> dict:
    await run_sync(workfns.die)
    return {}


FAILING = plugin_object(register_blueprints=hookimpl(lambda settings: [failing]))


def assert_nothing_private(receiver: Receiver) -> None:
    everything = b"".join(receiver.raw).decode()
    assert SECRET_NAME not in everything
    assert "127.0.0.1" not in everything
    assert "2001:db8" not in everything
    assert "/srv/media" not in everything


async def test_unhandled_error_and_5xx_are_reported_without_client_data(make_app, receiver):
    app = make_app(kernel={"plugins": ["sentry", "failing"], "sentry_dsn": receiver.dsn,
                           "environment": "staging"}, plugins={"failing": FAILING})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        r = await client.get("/api/v1/failing/boom", scope_base={"client": ("127.0.0.1", 1)})
        assert r.status_code == 500
        assert (await client.get("/api/v1/failing/busy")).status_code == 503
        assert (await client.get("/api/v1/nope")).status_code == 404  # a 4xx is no report
    # leaving the app flushed the SDK: the receiver has both events, nothing else
    events = receiver.events()
    assert len(events) == 2, events
    assert all(p == "/api/42/envelope/" for p in receiver.paths)
    crash, busy_answer = sorted(events, key=lambda e: "exception" in e, reverse=True)
    assert crash["environment"] == "staging"
    assert crash["tags"]["route"] == "/api/v1/failing/boom"
    assert crash["tags"]["status"] == "500"
    exc = crash["exception"]["values"][-1]
    assert exc["type"] == "RuntimeError"
    assert exc["value"].startswith("cannot open [redacted] for [redacted]")
    assert any(f["function"] == "boom" for f in exc["stacktrace"]["frames"])
    assert all("vars" not in f for f in exc["stacktrace"]["frames"])
    assert "request" not in crash
    assert "user" not in crash
    assert busy_answer["message"] == "HTTP 503 answer" or (
        busy_answer["logentry"]["message"] == "HTTP 503 answer")
    assert busy_answer["tags"]["route"] == "/api/v1/failing/busy"
    assert_nothing_private(receiver)


async def test_worker_crash_is_reported_without_the_file_name(make_app, receiver):
    app = make_app(kernel={"plugins": ["sentry", "media", "iscc", "faults"],
                           "sentry_dsn": receiver.dsn, "max_workers": 1},
                   plugins={"faults": iscc_faults_plugin})
    async with app.test_app() as test_app:
        r = await test_app.test_client().post(
            "/api/v1/iscc?semantic=false", data=b"\xff\xd8\xff not really a jpeg",
            headers=upload_headers(f"crash-{SECRET_NAME}.jpg", "image/jpeg"),
            scope_base={"client": ("127.0.0.1", 1)})
        assert r.status_code == 503
    events = receiver.events()
    died = [e for e in events if "worker died" in json.dumps(e.get("logentry", {}))]
    assert len(died) == 2  # the job and its one retry
    assert died[0]["level"] == "warning"
    assert died[0]["logger"] == "iscc_web.workers"
    answered = [e for e in events if e.get("tags", {}).get("status") == "503"]
    assert len(answered) == 1
    assert answered[0]["tags"]["route"] == "/api/v1/iscc"
    assert_nothing_private(receiver)


async def test_worker_crash_on_a_route_of_its_own(make_app, receiver):
    app = make_app(kernel={"plugins": ["sentry", "failing"], "sentry_dsn": receiver.dsn,
                           "max_workers": 1}, plugins={"failing": FAILING})
    async with app.test_app() as test_app:
        assert (await test_app.test_client().get("/api/v1/failing/die")).status_code == 503
    kinds = sorted(e.get("logger", "answer") for e in receiver.events())
    assert kinds == ["answer", "iscc_web.workers", "iscc_web.workers"]


async def test_without_a_dsn_nothing_is_set_up(make_app, receiver):
    app = make_app(kernel={"plugins": ["sentry", "failing"]}, plugins={"failing": FAILING})
    assert "sentry" not in app.extensions
    assert "asgi_app" not in vars(app)
    async with app.test_app() as test_app:
        assert (await test_app.test_client().get("/api/v1/failing/boom")).status_code == 500
    assert receiver.raw == []


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("open '/tmp/x/photo.jpg' failed", "open [redacted] failed"),
    ('bad name "Q3 report.pdf"', "bad name [redacted]"),
    ("from 10.0.0.7:5123 and fe80::1", "from [redacted] and [redacted]"),
    ("No such file: /var/lib/iscc/media/abc/def", "No such file: [redacted]"),
    ("Worker died during a job (attempt 2)", "Worker died during a job (attempt 2)"),
])
def test_scrub_text(text, scrubbed):
    assert scrub_text(text) == scrubbed
