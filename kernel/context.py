"""The per-app runtime and the accessors route code uses to reach it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from quart import Quart, current_app, request

from kernel.errors import Forbidden

if TYPE_CHECKING:
    from collections.abc import Callable

    from kernel.config import Settings
    from kernel.plugins import PluginHost
    from kernel.storage import Storage, UploadMeta
    from kernel.workers import Workers

T = TypeVar("T")

API_PREFIX = "/api/v1"
EXTENSION = "iscc_web"


@attrs.frozen
class Runtime:
    """Everything one app instance owns: its frozen settings, plugins and backends."""

    settings: Settings
    host: PluginHost
    storage: Storage
    workers: Workers
    openapi: dict[str, Any]


def runtime_of(app: Quart) -> Runtime:
    return app.extensions[EXTENSION]


def runtime() -> Runtime:
    """The runtime of the app handling the current request (or app context)."""
    return runtime_of(current_app)


def get_settings() -> Settings:
    return runtime().settings


def plugin_settings(section: str) -> Any:
    """The frozen settings a plugin declared for ``[plugin.<section>]``."""
    return runtime().settings.of(section)


def get_storage() -> Storage:
    return runtime().storage


def get_workers() -> Workers:
    return runtime().workers


async def run_sync(fn: Callable[..., T], *args: Any) -> T:
    """Run a plain function in the worker pool (see :class:`kernel.workers.Workers`)."""
    return await runtime().workers.run_sync(fn, *args)


def current_actor() -> str:
    """The identity of the requester (blake3 of the client address by default)."""
    rt = runtime()
    return rt.host.actor_from_request(request=request, settings=rt.settings)


def require_access(meta: UploadMeta, action: str) -> None:
    """Raise 403 unless the requester may ``action`` the package ``meta`` describes."""
    rt = runtime()
    allowed = rt.host.media_access(
        actor=current_actor(), meta=meta, action=action, settings=rt.settings
    )
    if not allowed:
        raise Forbidden("Only accessible by original uploader.")


def media_location(media_id: str) -> str:
    """Root-relative URL of a stored file (the ``Location`` header)."""
    return f"{API_PREFIX}/media/{media_id}"


def media_url(media_id: str) -> str:
    """Absolute URL of a stored file, from the request's scheme and Host header."""
    return f"{request.scheme}://{request.host}{media_location(media_id)}"
