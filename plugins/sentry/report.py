"""sentry-sdk set-up (process-wide, as the SDK is) and the ASGI wrapper that reports 5xx answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.logging import EventHandler

from kernel import request_error, request_labels, route_template
from plugins.sentry.scrub import before_send

#: Loggers whose warnings are reports of their own: the worker pool's (a worker died, a worker
#: did not stop) and the sweeper's failures.
REPORTED_LOGGERS = {"iscc_web.workers": logging.WARNING, "iscc_web.sweeper": logging.ERROR}
log = logging.getLogger("iscc_web.sentry")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iscc-web-trio")
    except PackageNotFoundError:
        return "0+unknown"


@asynccontextmanager
async def reporting_to(dsn: str, environment: str) -> AsyncIterator[None]:
    """Initialise sentry-sdk while the app serves; flush and close it afterwards."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"iscc-web-trio@{_version()}",
        traces_sample_rate=0,
        # nothing about the client, no bodies, no local variables (they hold paths and names)
        data_collection={"user_info": False, "http_bodies": [], "stack_frame_variables": False},
        include_local_variables=False,
        max_breadcrumbs=0,
        default_integrations=False,  # no global logging/excepthook/threading hooks
        auto_enabling_integrations=False,  # no monkey-patching of Quart or HTTP clients
        integrations=[DedupeIntegration()],
        before_send=before_send,  # type: ignore[arg-type]
    )
    handlers = []
    for name, level in REPORTED_LOGGERS.items():
        handler = EventHandler(level=level)
        logging.getLogger(name).addHandler(handler)
        handlers.append((name, handler))
    log.info("reporting errors to Sentry (environment %s)", environment)
    try:
        yield
    finally:
        for name, handler in handlers:
            logging.getLogger(name).removeHandler(handler)
        client = sentry_sdk.get_client()
        client.flush(timeout=2)
        client.close(timeout=2)


def reporting(app: Any) -> Callable[[Any], Any]:
    """Middleware factory: report each 5xx answer once, with its error when there was one."""

    def wrap(inner: Any) -> Any:
        async def reported(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            status = 0

            async def watching_send(message: Any) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            await inner(scope, receive, watching_send)
            if status >= 500:
                _report(app, scope, status)

        return reported

    return wrap


def _report(app: Any, scope: dict[str, Any], status: int) -> None:
    with sentry_sdk.new_scope() as report:
        report.set_tag("route", route_template(app, scope))
        report.set_tag("method", scope["method"])
        report.set_tag("status", str(status))
        for key, value in request_labels(scope).items():
            report.set_tag(key, value)
        error = request_error(scope)
        if error is not None:
            sentry_sdk.capture_exception(error)
        else:
            sentry_sdk.capture_message(f"HTTP {status} answer", level="error")
