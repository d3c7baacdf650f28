"""Endpoint group ``metrics``: Prometheus metrics at ``GET /metrics`` (prometheus-client).

Requests are counted by route template (never a raw path: no media id or ISCC ever becomes a
label value), method and status, with latency histograms, request body bytes and worker job
durations by job and media mode; the worker pool, storage operations and the sweeper are read
at scrape time. Attaches through the kernel's ``asgi_wrapper`` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kernel import Settings, SettingsSpec, hookimpl
from plugins._contract import contract_fragment
from plugins.metrics.settings import SECTION, MetricsSettings

if TYPE_CHECKING:
    from quart import Blueprint, Quart

#: Where the app keeps its :class:`plugins.metrics.collect.Metrics`.
EXTENSION = "metrics"


@hookimpl
def register_settings() -> SettingsSpec:
    return SettingsSpec(SECTION, MetricsSettings, env_prefix="ISCC_WEB_METRICS_")


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    if not settings.of(SECTION).enabled:
        return []
    from plugins.metrics.routes import create_blueprint

    return [create_blueprint()]


@hookimpl
def openapi_spec(settings: Settings) -> dict[str, Any] | None:
    """``GET /metrics`` in the served contract while it is served."""
    if not settings.of(SECTION).enabled:
        return None
    return contract_fragment("metrics", settings)


@hookimpl
def asgi_wrapper(app: Quart, settings: Settings) -> Callable[[Any], Any] | None:
    if not settings.of(SECTION).enabled:
        return None
    from plugins.metrics.collect import Metrics
    from plugins.metrics.middleware import counting

    metrics = app.extensions[EXTENSION] = Metrics()
    return counting(app, metrics)
