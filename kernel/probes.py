"""``GET /healthz`` (the process serves) and ``GET /readyz`` (it can do its work).

Both are cheap, never touch the ISCC stack, are not cached and are access-logged at DEBUG only.
Readiness asks the storage backend whether it is reachable and the worker pool whether it is
running; 503 (problem+json, ``Retry-After``) otherwise, so a proxy or orchestrator can route
around the instance.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import trio
from quart import Blueprint, Response

from kernel.config import Settings
from kernel.context import quiet_route, runtime
from kernel.errors import ServiceUnavailable
from kernel.hookspecs import hookimpl

log = logging.getLogger("iscc_web.probes")

#: Seconds the storage check may take before the instance counts as not ready.
STORAGE_CHECK_TIMEOUT = 2.0

blueprint = Blueprint("kernel_probes", __name__)


def _answer(body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/healthz")
@quiet_route
async def healthz() -> Response:
    """Liveness: answers as long as the event loop serves requests (constant time)."""
    return _answer({"status": "ok"})


async def _storage_ready(storage: Any) -> bool:
    with trio.move_on_after(STORAGE_CHECK_TIMEOUT):
        try:
            return bool(await storage.ready())
        except Exception as exc:  # any failure of the check means "not reachable"
            log.warning("storage is not ready: %r", exc)
            return False
    log.warning("storage readiness check timed out")
    return False


@blueprint.get("/readyz")
@quiet_route
async def readyz() -> Response:
    """Readiness: storage reachable and the worker pool running; 503 otherwise."""
    rt = runtime()
    checks = {
        "storage": "ok" if await _storage_ready(rt.storage) else "unavailable",
        "workers": "ok" if rt.workers.ready() else "unavailable",
    }
    failing = sorted(name for name, state in checks.items() if state != "ok")
    if failing:
        raise ServiceUnavailable(f"Not ready: {', '.join(failing)} unavailable.",
                                 headers={"Cache-Control": "no-store"})
    return _answer({"status": "ready", **checks})


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    return [blueprint]
