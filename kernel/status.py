"""``GET /api/v1/-/status``: version, plugins, workers and storage at a glance."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from typing import Any

from quart import Blueprint, current_app

from kernel.config import Settings
from kernel.context import API_PREFIX, runtime
from kernel.hookspecs import hookimpl

blueprint = Blueprint("kernel_status", __name__, url_prefix=API_PREFIX)


def service_version() -> str:
    try:
        return importlib.metadata.version("iscc-web-trio")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


@blueprint.get("/-/status")
async def status() -> dict[str, Any]:
    rt = runtime()
    body: dict[str, Any] = {
        "version": service_version(),
        "plugins": [p for p in rt.host.describe() if p["name"] in rt.host.enabled],
        "kernel": [p for p in rt.host.describe() if p["name"] not in rt.host.enabled],
        "workers": rt.workers.statistics(),
        "storage": await rt.storage.statistics(),
    }
    body.update(await rt.host.status_report(app=current_app))
    return body


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    return [blueprint]
