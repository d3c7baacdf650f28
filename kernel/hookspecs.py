"""Every hook a plugin can implement, grouped by the phase in which it fires.

All hooks are synchronous unless noted. ``firstresult`` hooks stop at the first non-``None``
answer; the kernel's own defaults for them are ``trylast`` so any plugin can override them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from quart import Blueprint, Quart, Request

    from kernel.config import Settings, SettingsSpec
    from kernel.storage import Storage, UploadMeta
    from kernel.workers import Workers

PROJECT = "iscc_web"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- app creation -------------------------------------------------------------------------


@hookspec
def register_settings() -> SettingsSpec | None:
    """Declare this plugin's settings table; fires once while ``create_app`` runs."""


@hookspec
def register_storage() -> Mapping[str, Callable[[Settings], Storage]] | None:
    """Offer storage backends by name; ``[kernel] storage`` picks one at app creation."""


WorkersFactory = Callable[["Settings", Sequence[Callable[[], None]]], "Workers"]


@hookspec
def register_workers() -> Mapping[str, WorkersFactory] | None:
    """Offer worker-pool backends by name; ``[kernel] workers`` picks one at app creation."""


@hookspec
def worker_init(settings: Settings) -> Callable[[], None] | None:
    """Return a picklable top-level function every worker process runs once when it starts."""


@hookspec
def register_blueprints(settings: Settings) -> Sequence[Blueprint] | None:
    """Return the Quart blueprints this plugin serves; fires once, after settings are frozen."""


@hookspec
def openapi_spec(settings: Settings) -> Mapping[str, Any] | None:
    """Return the OpenAPI fragment (``paths``, ``components``) for the routes this plugin serves."""


#: An ASGI application: ``await app(scope, receive, send)``.
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


@hookspec
def asgi_wrapper(app: Quart, settings: Settings) -> Callable[[ASGIApp], ASGIApp] | None:
    """Return ``wrap(asgi_app) -> asgi_app`` (ASGI middleware); applied once, at app creation.

    Every scope passes through (``lifespan`` too), so a wrapper forwards what it does not
    handle. The plugin listed first in ``[kernel] plugins`` wraps outermost.
    """


# --- serving ------------------------------------------------------------------------------


@hookspec
def lifespan(app: Quart) -> AbstractAsyncContextManager[None] | None:
    """Return an async context manager entered when serving starts and left when it stops."""


@hookspec
def status_report(app: Quart) -> Mapping[str, Any] | None:
    """Return this plugin's section of ``GET /api/v1/-/status``; may be called at any time."""


# --- per request --------------------------------------------------------------------------


@hookspec(firstresult=True)
def actor_from_request(request: Request, settings: Settings) -> str | None:
    """Return the requester's identity (an opaque string, never a raw address)."""


@hookspec(firstresult=True)
def media_access(actor: str, meta: UploadMeta, action: str, settings: Settings) -> bool | None:
    """Decide whether ``actor`` may ``action`` (download, delete, embed) a stored package."""
