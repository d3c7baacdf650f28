"""Every hook a plugin can implement, grouped by the phase in which it fires.

Hooks are called through pluggy with keyword arguments, so an implementation may accept any
subset of a hook's parameters (none at all, too). Every hook receives ``host``, the app's
:class:`kernel.plugins.PluginHost`, as the one object that is the same for every hook.
Each docstring says whether the hook may be ``async`` and what returning ``None`` means.
``firstresult`` hooks stop at the first non-``None`` answer and must be synchronous; the
kernel's own defaults for them are ``trylast`` so any plugin can override them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from quart import Blueprint, Quart, Request

    from kernel.config import Settings, SettingsSpec
    from kernel.plugins import PluginHost
    from kernel.storage import Storage, UploadMeta
    from kernel.workers import Workers

PROJECT = "iscc_web"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- app creation -------------------------------------------------------------------------


@hookspec
def register_settings(host: PluginHost) -> SettingsSpec | None:
    """Declare this plugin's settings table; fires once while ``create_app`` runs.

    Sync only. ``None``: the plugin has no settings.
    """


@hookspec
def register_storage(host: PluginHost) -> Mapping[str, Callable[[Settings], Storage]] | None:
    """Offer storage backends by name; ``[kernel] storage`` picks one at app creation.

    Sync only. ``None``: the plugin offers no backend.
    """


WorkersFactory = Callable[["Settings", Sequence[Callable[[], None]]], "Workers"]


@hookspec
def register_workers(host: PluginHost) -> Mapping[str, WorkersFactory] | None:
    """Offer worker-pool backends by name; ``[kernel] workers`` picks one at app creation.

    Sync only. ``None``: the plugin offers no backend.
    """


@hookspec
def worker_init(settings: Settings, host: PluginHost) -> Callable[[], None] | None:
    """Return a picklable top-level function every worker process runs once when it starts.

    Sync only. ``None``: nothing to run in workers.
    """


@hookspec
def register_blueprints(settings: Settings, host: PluginHost) -> Sequence[Blueprint] | None:
    """Return the Quart blueprints this plugin serves; fires once, after settings are frozen.

    Sync only. ``None`` or empty: the plugin serves no routes.
    """


@hookspec
def openapi_spec(settings: Settings, host: PluginHost) -> Mapping[str, Any] | None:
    """Return the OpenAPI fragment (``paths``, ``components``) for the routes this plugin serves.

    Sync only. ``None`` or empty: nothing to add to the served contract.
    """


#: An ASGI application: ``await app(scope, receive, send)``.
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


@hookspec
def asgi_wrapper(app: Quart, settings: Settings,
                 host: PluginHost) -> Callable[[ASGIApp], ASGIApp] | None:
    """Return ``wrap(asgi_app) -> asgi_app`` (ASGI middleware); applied once, at app creation.

    Every scope passes through (``lifespan`` too), so a wrapper forwards what it does not
    handle. The plugin listed first in ``[kernel] plugins`` wraps outermost. Sync only (the
    wrapped app is async). ``None``: no wrapper.
    """


# --- serving ------------------------------------------------------------------------------


@hookspec
def lifespan(app: Quart, host: PluginHost) -> AbstractAsyncContextManager[None] | None:
    """Return an async context manager entered when serving starts and left when it stops.

    The hook itself is sync; the context manager it returns is async. Entered in
    registration order, left in reverse. ``None``: nothing to run while serving.
    """


@hookspec
def status_report(app: Quart, private: bool, host: PluginHost) -> Mapping[str, Any] | None:
    """Return this plugin's section of ``GET /api/v1/-/status``; may be called at any time.

    ``private`` is true for requests from ``status_networks``: only then may the section
    carry operational detail (counts, versions); the public part says what clients can do.
    May be ``async`` (its result is awaited). ``None`` or empty: no section.
    """


# --- per request --------------------------------------------------------------------------


@hookspec(firstresult=True)
def actor_from_request(request: Request, settings: Settings, host: PluginHost) -> str | None:
    """Return the requester's identity (an opaque string, never a raw address).

    Sync only (``firstresult``). ``None``: let the next implementation decide; the
    kernel's default (``trylast``) always answers.
    """


@hookspec(firstresult=True)
def media_access(actor: str, meta: UploadMeta, action: str, settings: Settings,
                 host: PluginHost) -> bool | None:
    """Decide whether ``actor`` may ``action`` a package (result, download, delete, embed).

    Sync only (``firstresult``). ``None``: let the next implementation decide; the
    kernel's default (``trylast``) always answers.
    """
