"""Expiry of old packages (CONTRACT §6.3)."""

from __future__ import annotations

import json
import os
import time

import trio

from kernel.context import runtime_of
from kernel.storage import new_media_id
from kernel.sweeper import sweep_once
from tests.conftest import upload_headers


def make_package(media_path, media_id, age: float = 0.0, created: float | None = None):
    package = media_path / media_id
    package.mkdir(parents=True)
    (package / "f.txt").write_text("x")
    record = {} if created is None else {"created": created}
    (package / f"{media_id}.meta.json").write_text(json.dumps(record))
    if age:
        past = time.time() - age
        os.utime(package, (past, past))
    return package


async def test_expired_packages_are_deleted_and_fresh_ones_kept(make_app, media_path):
    app = make_app(kernel={"storage_expiry": 60})
    media_path.mkdir(parents=True)
    old = make_package(media_path, new_media_id(), created=time.time() - 120)
    # an id that looks minted in 2025 (a Flake) is not old: ids carry no time
    fresh = make_package(media_path, "06h0000000000", created=time.time())
    odd_old = make_package(media_path, "not-a-flake", age=3600)  # no record: age from mtime
    (media_path / ".gitignore").write_text("*")
    async with app.app_context():
        assert await sweep_once(app) == 2
    assert not old.exists()
    assert not odd_old.exists()
    assert fresh.exists()
    assert (media_path / ".gitignore").exists()


async def test_sweeper_runs_at_start_up_when_enabled(make_app, media_path):
    app = make_app(kernel={"storage_expiry": -1, "cleanup_interval": 3600})
    media_path.mkdir(parents=True)
    expired = make_package(media_path, new_media_id())
    async with app.test_app():
        with trio.fail_after(5):
            while expired.exists():
                await trio.sleep(0.02)


async def test_a_failing_sweep_does_not_stop_the_server(make_app, media_path, monkeypatch):
    app = make_app(kernel={"storage_expiry": 60, "cleanup_interval": 3600})
    storage = runtime_of(app).storage

    async def broken(max_age: float) -> int:
        raise OSError("disk on fire")

    monkeypatch.setattr(storage, "sweep", broken)
    async with app.test_app() as test_app:
        assert await sweep_once(app) == 0
        r = await test_app.test_client().post("/api/v1/media", data=b"x",
                                              headers=upload_headers())
        assert r.status_code == 201
