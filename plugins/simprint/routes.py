"""Routes of the ``simprint`` group (CONTRACT §2.11)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, request

from kernel import (
    API_PREFIX,
    BadRequest,
    JobTimeout,
    UnprocessableEntity,
    get_settings,
    read_json,
    run_sync,
)
from plugins._processing.capabilities import semantic_modes
from plugins._processing.errors import ProcessingFailed
from plugins._processing.settings import shared_processing
from plugins.simprint.work import simprint_job

blueprint = Blueprint("simprint", __name__, url_prefix=API_PREFIX)

#: Worst-case JSON expansion of one UTF-8 byte (``\\u00XX``), plus room for the envelope.
JSON_OVERHEAD = 6
JSON_ENVELOPE = 65_536


def _text_of(body: Any, max_bytes: int) -> str:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    if "text" not in body:
        raise BadRequest("Missing field 'text'.")
    text = body["text"]
    if not isinstance(text, str):
        raise BadRequest("'text' must be a string.")
    if not text:
        raise BadRequest("'text' must not be empty.")
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        raise BadRequest(f"text size must be <= {max_bytes} bytes")
    return text


@blueprint.post("/simprint")
async def create_simprint() -> dict[str, list[str]]:
    kernel = get_settings().kernel
    limit = kernel.max_upload_size * JSON_OVERHEAD + JSON_ENVELOPE
    body = await read_json(request, limit=limit, idle_timeout=kernel.body_timeout)
    text = _text_of(body, kernel.max_upload_size)
    semantic = "text" in semantic_modes(shared_processing(get_settings()).semantic_model_dir)
    try:
        return await run_sync(simprint_job, text, semantic)
    except JobTimeout:
        raise UnprocessableEntity("simprint processing timed out.") from None
    except ProcessingFailed as exc:
        raise UnprocessableEntity(exc.detail) from None
