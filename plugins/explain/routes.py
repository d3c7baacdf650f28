"""Routes of the ``explain`` group (CONTRACT §2.10)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint

from kernel import API_PREFIX, BadRequest
from plugins.explain.decode import explain

blueprint = Blueprint("explain", __name__, url_prefix=API_PREFIX)


@blueprint.get("/explain/<iscc>")
async def explain_iscc(iscc: str) -> dict[str, Any]:
    try:
        return explain(iscc)
    except ValueError as exc:
        raise BadRequest(f"Invalid ISCC - {exc}") from None
