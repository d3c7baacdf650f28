"""Shared fixtures: apps on temp storage, in-process clients and real hypercorn servers."""

from __future__ import annotations

import base64
import types
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from kernel import create_app
from kernel.app import IsccWebApp
from kernel.context import runtime_of
from kernel.serve import hypercorn_config, serve_hypercorn
from tests.s3_fixtures import seaweedfs_fixture  # noqa: F401 - one S3 server per session

AppFactory = Callable[..., IsccWebApp]


def b64name(name: str) -> str:
    """The ``X-Upload-Filename`` value for ``name``."""
    return base64.b64encode(name.encode()).decode()


def upload_headers(name: str = "test.txt", content_type: str | None = "text/plain") -> dict:
    headers = {"X-Upload-Filename": b64name(name)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def plugin_object(**hooks: Any) -> types.ModuleType:
    """A plugin made in a test, as a module object (pluggy keeps plugins in sets: hashable)."""
    module = types.ModuleType("test_plugin")
    vars(module).update(hooks)
    return module


@pytest.fixture
def media_path(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def make_app(media_path: Path) -> AppFactory:
    """Build an app on temp storage; keyword tables override the test defaults.

    ``make_app(kernel={...}, plugin={"iscc": {...}}, plugins={"name": obj}, env={...})``;
    the environment is empty unless given, so the machine's ISCC_WEB_* never leak in.
    """

    def factory(kernel: dict[str, Any] | None = None, plugin: dict[str, Any] | None = None,
                plugins: dict[str, object] | None = None,
                env: dict[str, str] | None = None) -> IsccWebApp:
        table = {"media_path": str(media_path), "cleanup_interval": 0, "max_workers": 2,
                 "log_level": "WARNING"}
        table.update(kernel or {})
        return create_app({"kernel": table, "plugin": plugin or {}}, env=env or {},
                          plugins=plugins)

    return factory


@pytest.fixture
async def app(make_app: AppFactory) -> IsccWebApp:
    return make_app()


@pytest.fixture
async def client(app: IsccWebApp) -> AsyncIterator[Any]:
    """In-process test client of the default app, lifespan running."""
    async with app.test_app() as test_app:
        yield test_app.test_client()


@asynccontextmanager
async def serve_live(app: IsccWebApp, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``app`` with a real hypercorn on ``host`` and a free port; yield its base URL."""
    config = hypercorn_config(runtime_of(app).settings.kernel, f"{host}:0")
    config.graceful_timeout = 2
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve_hypercorn, app, config,
                                            shutdown_trigger=stop.wait))
        try:
            yield binds[0]
        finally:
            stop.set()


@pytest.fixture
async def live_url(app: IsccWebApp) -> AsyncIterator[str]:
    """Base URL of the default app served by hypercorn on 127.0.0.1."""
    async with serve_live(app) as url:
        yield url


@pytest.fixture
async def http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for the live server (base URL set, no timeout surprises)."""
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as c:
        yield c
