"""Endpoint group ``similar``: "Seen before?" — similarity search on iscc-search.

Needs the ``search`` extra (``pip install -e ".[search]"``). The index is iscc-search's:
embedded (``index_uri``, one process) or its server (``index_url``, several instances).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from kernel import ConfigError, Settings, hookimpl
from plugins._processing.group import ProcessingGroup
from plugins.similar.settings import SECTION, SimilarSettings

if TYPE_CHECKING:
    from quart import Blueprint, Quart

#: Seconds the status report waits for the index's entry count.
STATUS_TIMEOUT = 2.0
MISSING = ("plugin 'similar' is enabled but iscc-search is not installed: "
           "pip install -e \".[search]\" (or remove 'similar' from [kernel] plugins)")

group = ProcessingGroup(SECTION, SimilarSettings, "plugins.similar.routes")
register_settings = group.register_settings
worker_init = group.worker_init
openapi_spec = group.openapi_spec


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.similar.index import search_installed

    if not search_installed():
        raise ConfigError(MISSING)
    return group.register_blueprints(settings)


@hookimpl
def lifespan(app: Quart) -> Any:
    return _index_open(app)


@asynccontextmanager
async def _index_open(app: Quart) -> AsyncIterator[None]:
    """The app's index handle (opened on first use), closed when serving stops."""
    from kernel import runtime
    from plugins.similar.index import SimilarIndex
    from plugins.similar.routes import EXTENSION

    settings = runtime().settings
    index = SimilarIndex(settings.of(SECTION), settings.kernel.media_path)
    app.extensions[EXTENSION] = index
    try:
        yield
    finally:
        await index.aclose()
        app.extensions.pop(EXTENSION, None)


@hookimpl
async def status_report(app: Quart) -> Mapping[str, Any]:
    from plugins.similar.index import IndexUnavailable
    from plugins.similar.routes import EXTENSION

    index = app.extensions.get(EXTENSION)
    if index is None:
        return {SECTION: {"available": False, "writable": False}}
    token = bool(index.settings.index_write_token)
    report: dict[str, Any] = {"backend": index.backend, "name": index.name,
                              "write_token_required": token}
    try:
        report["entries"] = await index.entries(timeout=STATUS_TIMEOUT)
        report["available"] = True
    except IndexUnavailable:
        report["entries"] = None
        report["available"] = False
    report["writable"] = report["available"] and not token
    return {SECTION: report}
