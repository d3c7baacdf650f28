"""Routes of the ``simprint`` group (CONTRACT §2.11)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, request

from kernel import (
    API_PREFIX,
    BadRequest,
    get_settings,
    plugin_settings,
    read_json,
    run_sync,
)
from plugins._processing.capabilities import semantic_modes
from plugins._processing.outcome import run_job
from plugins._processing.settings import shared_processing
from plugins._schema import SimprintRequest, load
from plugins.simprint.settings import SECTION, SimprintSettings
from plugins.simprint.work import simprint_job

blueprint = Blueprint("simprint", __name__, url_prefix=API_PREFIX)

#: Worst-case JSON size of one text character (``\\u00XX``), plus room for the envelope.
JSON_OVERHEAD = 6
JSON_ENVELOPE = 65_536


def _text_of(body: Any, max_chars: int) -> str:
    text = load(SimprintRequest, body).text
    if len(text) > max_chars:
        raise BadRequest(f"text size must be <= {max_chars} characters")
    return text


@blueprint.post("/simprint")
async def create_simprint() -> dict[str, list[str]]:
    kernel = get_settings().kernel
    own: SimprintSettings = plugin_settings(SECTION)
    limit = own.max_text_chars * JSON_OVERHEAD + JSON_ENVELOPE
    body = await read_json(request, limit=limit, idle_timeout=kernel.body_timeout)
    text = _text_of(body, own.max_text_chars)
    semantic = "text" in semantic_modes(shared_processing(get_settings()).semantic_model_dir)
    return await run_job(run_sync, simprint_job, text, semantic,
                         timeout_detail="simprint processing timed out.")
