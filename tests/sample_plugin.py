"""A third-party plugin as an outside package would write it: it only imports ``kernel``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import attrs
from quart import Blueprint

from kernel import API_PREFIX, Settings, SettingsSpec, hookimpl, plugin_settings, run_sync

__version__ = "1.2.3"

blueprint = Blueprint("hello", __name__, url_prefix=API_PREFIX)
EVENTS: list[str] = []


@attrs.frozen(kw_only=True)
class HelloSettings:
    greeting: str = "hello"


@blueprint.get("/hello")
async def hello() -> dict[str, str]:
    return {"greeting": plugin_settings("hello").greeting}


@blueprint.get("/hello/worker")
async def worker_env() -> dict[str, str]:
    return {"value": await run_sync(read_marker)}


def read_marker() -> str:
    return os.environ.get("HELLO_WORKER_MARKER", "unset")


def set_marker() -> None:
    os.environ["HELLO_WORKER_MARKER"] = "initialised"


@hookimpl
def register_settings() -> SettingsSpec:
    return SettingsSpec("hello", HelloSettings, env_prefix="HELLO_")


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    return [blueprint]


@hookimpl
def worker_init(settings: Settings):
    return set_marker


@hookimpl
def openapi_spec(settings: Settings):
    return {"paths": {"/hello": {"get": {"operationId": "hello", "responses": {"200": {
        "description": "A greeting"}}}}}}


@hookimpl
def status_report(app):
    return {"hello": {"events": list(EVENTS)}}


@hookimpl
def lifespan(app):
    return _lifespan()


@asynccontextmanager
async def _lifespan() -> AsyncIterator[None]:
    EVENTS.append("start")
    try:
        yield
    finally:
        EVENTS.append("stop")
