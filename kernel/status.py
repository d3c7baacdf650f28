"""``GET /api/v1/-/status``: version, plugins, workers and storage at a glance."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from typing import Any

from quart import Blueprint, current_app, request

from kernel.config import Settings
from kernel.context import API_PREFIX, runtime
from kernel.hookspecs import hookimpl
from kernel.privacy import client_address, in_networks

blueprint = Blueprint("kernel_status", __name__, url_prefix=API_PREFIX)


def service_version() -> str:
    try:
        return importlib.metadata.version("iscc-web-trio")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


@blueprint.get("/-/status")
async def status() -> dict[str, Any]:
    """Everything for ``status_networks``; for anyone else the public part only.

    Storage counts, worker counters and module versions would tell a stranger when other
    clients upload (and what to attack); the version, the enabled groups and what they can do
    (each group's own report) are what a client needs.
    """
    rt = runtime()
    kernel = rt.settings.kernel
    if not in_networks(client_address(request, kernel.trusted_proxies), kernel.status_networks):
        public: dict[str, Any] = {
            "version": service_version(),
            "plugins": [{"name": p["name"]} for p in rt.host.describe()
                        if p["name"] in rt.host.enabled],
        }
        public.update(await rt.host.status_report(app=current_app, private=False))
        return public
    body: dict[str, Any] = {
        "version": service_version(),
        "plugins": [p for p in rt.host.describe() if p["name"] in rt.host.enabled],
        "kernel": [p for p in rt.host.describe() if p["name"] not in rt.host.enabled],
        "workers": rt.workers.statistics(),
        "storage": await rt.storage.statistics(),
    }
    body.update(await rt.host.status_report(app=current_app, private=True))
    return body


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    return [blueprint]
