"""Endpoint group ``sentry``: error reports to Sentry through sentry-sdk when ``sentry_dsn`` is set.

Reports unhandled errors (with their traceback), every other 5xx answer, and worker crashes
(the pool's warnings), tagged with route template, method, status and media mode, under the
``environment`` setting. Nothing that identifies a client or a file leaves the server: no
request data, no local variables, and addresses, paths and quoted values are scrubbed from
every message before sending (:mod:`plugins.sentry.scrub`). Without a DSN it does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from kernel import Settings, hookimpl

if TYPE_CHECKING:
    from quart import Quart

#: Where the app keeps its DSN and environment between creation and serving.
EXTENSION = "sentry"


@hookimpl
def asgi_wrapper(app: Quart, settings: Settings) -> Callable[[Any], Any] | None:
    if not settings.kernel.sentry_dsn:
        return None
    from plugins.sentry.report import reporting

    app.extensions[EXTENSION] = (settings.kernel.sentry_dsn, settings.kernel.environment)
    return reporting(app)


@hookimpl
def lifespan(app: Quart) -> AbstractAsyncContextManager[None] | None:
    if EXTENSION not in app.extensions:
        return None
    from plugins.sentry.report import reporting_to

    return reporting_to(*app.extensions[EXTENSION])
