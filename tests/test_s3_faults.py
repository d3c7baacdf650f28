"""The object store fails under a running server: clean 503s, nothing half-written, recovery.

The store is the session's SeaweedFS, killed (SIGKILL, like a crash) in the middle of a
streamed upload and started again on the same ports and data; the server is never restarted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import trio

from tests.conftest import AppFactory, serve_live, upload_headers
from tests.s3_fixtures import SeaweedFS, s3_table

MiB = 1024 * 1024


def s3_app(make_app: AppFactory, server: SeaweedFS, tmp_path: Path) -> tuple[Any, str]:
    table = s3_table(server, tmp_path / "cache", max_attempts=2, connect_timeout=1.0)
    app = make_app(kernel={"storage": "s3", "plugins": ["media", "s3"]}, plugin={"s3": table})
    return app, table["prefix"]


def complete(answer: bytes | bytearray) -> bool:
    """Whether ``answer`` holds a whole response (head plus Content-Length body)."""
    head, sep, body = bytes(answer).partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False


async def upload_while_store_dies(url: str, server: SeaweedFS) -> tuple[int, dict[str, Any]]:
    """Stream 24 MiB like a careful client (reading the answer while sending); kill the store
    after 12 MiB. httpx only reads after sending everything, so a raw socket is used here."""
    host, port = url.removeprefix("http://").split(":")
    total = 24 * MiB
    head = (f"POST /api/v1/media HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Length: {total}\r\nContent-Type: application/octet-stream\r\n"
            f"X-Upload-Filename: {upload_headers('big.bin')['X-Upload-Filename']}\r\n"
            "Connection: close\r\n\r\n").encode()
    stream = await trio.open_tcp_stream(host, int(port))
    answer = bytearray()
    async with stream, trio.open_nursery() as nursery:
        async def send() -> None:
            await stream.send_all(head)
            for index in range(total // MiB):
                if index == 12:
                    await trio.to_thread.run_sync(lambda: server.stop(kill=True))
                await stream.send_all(b"s" * MiB)

        async def receive() -> None:
            with trio.fail_after(60):
                while not complete(answer) and (chunk := await stream.receive_some(65536)):
                    answer.extend(chunk)
            nursery.cancel_scope.cancel()  # the answer is complete: stop sending

        nursery.start_soon(send)
        nursery.start_soon(receive)
    head_part, _, body = bytes(answer).partition(b"\r\n\r\n")
    status = int(head_part.split(b" ", 2)[1])
    assert b"content-type: application/problem+json" in head_part.lower()
    assert b"retry-after:" in head_part.lower()
    return status, json.loads(body)


async def test_store_dies_mid_upload_then_recovers(make_app: AppFactory, tmp_path: Path,
                                                   seaweedfs: SeaweedFS) -> None:
    app, prefix = s3_app(make_app, seaweedfs, tmp_path)
    try:
        await _store_dies_then_recovers(app, prefix, seaweedfs)
    finally:
        if seaweedfs.process is None:  # later tests share the store
            await trio.to_thread.run_sync(seaweedfs.start)


async def _store_dies_then_recovers(app: Any, prefix: str, seaweedfs: SeaweedFS) -> None:
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
        before = await http.post("/api/v1/media", content=b"kept", headers=upload_headers())
        assert before.status_code == 201
        kept = before.json()["media_id"]
        status, problem = await upload_while_store_dies(url, seaweedfs)
        assert status == 503
        assert problem["status"] == 503
        assert "storage" in problem["detail"]

        # While the store is down every storage-backed request is a clean 503, never a 500.
        down = await http.get(f"/api/v1/media/{kept}")
        assert down.status_code == 503
        assert (await http.get("/api/v1/-/status")).status_code == 503

        await trio.to_thread.run_sync(seaweedfs.start)
        # Recovery without a restart: the kept package is intact, a new upload works, and the
        # failed upload's leftovers (claim, aborted multipart upload) are cleaned up.
        again = await http.get(f"/api/v1/media/{kept}")
        assert again.status_code == 200
        assert again.content == b"kept"
        after = await http.post("/api/v1/media", content=b"s" * (11 * MiB),
                                headers=upload_headers("after.bin"))
        assert after.status_code == 201
        fresh = after.json()["media_id"]
        keys = seaweedfs.keys(prefix)
        keys.remove(f"{prefix}.owner_key")  # the deployment's secret, kept next to the packages
        packages = sorted({key[len(prefix):].split("/")[0] for key in keys})
        assert packages == sorted([kept, fresh])
        assert seaweedfs.uploads(prefix) == []
        stats = (await http.get("/api/v1/-/status")).json()["storage"]
        assert stats["packages"] == 2
        assert stats["pending_cleanups"] == 0


async def test_store_unreachable_answers_503(make_app: AppFactory, tmp_path: Path,
                                             seaweedfs: SeaweedFS) -> None:
    """A server configured with a dead endpoint starts, and answers 503 until it is fixed."""
    table = s3_table(seaweedfs, tmp_path / "cache", endpoint="http://127.0.0.1:9",
                     max_attempts=1, connect_timeout=0.5)
    app = make_app(kernel={"storage": "s3", "plugins": ["media", "s3"]}, plugin={"s3": table})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post("/api/v1/media", content=b"x", headers=upload_headers())
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        r = await http.get("/api/v1/media/0123456789abc")
        assert r.status_code == 503
