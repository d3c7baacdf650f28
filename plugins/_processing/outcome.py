"""How a processing job's failure reaches the client: one mapping for every route."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from kernel import JobTimeout, UnprocessableEntity
from plugins._processing.errors import ProcessingFailed


async def run_job(run: Callable[..., Awaitable[Any]], fn: Callable[..., Any], *args: Any,
                  timeout_detail: str) -> Any:
    """``await run(fn, *args)`` (a job's ``run`` or ``kernel.run_sync``), with its failures
    answered 422: the worker's client-safe detail, or ``timeout_detail`` past the time limit.

    A job that hit its memory limit is already a 422 ("File too complex to process.").
    """
    try:
        return await run(fn, *args)
    except JobTimeout:
        raise UnprocessableEntity(timeout_detail) from None
    except ProcessingFailed as exc:
        raise UnprocessableEntity(exc.detail) from None


def sidecar_json(result: dict[str, Any]) -> bytes:
    """A result as stored in its package (``<media_id>.iscc.json``): compact JSON.

    ``GET /iscc/{id}`` serves these bytes as they are; compact is C-encoded in one pass
    (``indent`` switches ``json`` to its pure-Python encoder) and smaller to store.
    """
    return json.dumps(result, separators=(",", ":")).encode()
