"""Strict validation of the ``InlineMetadata`` request body (CONTRACT §3)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kernel import BadRequest

#: String fields and their maximum length (``None``: unlimited).
STRING_FIELDS: dict[str, int | None] = {
    "name": 128,
    "description": 4096,
    "meta": 16384,
    "identifier": None,
    "creator": None,
    "license": None,
    "acquire": 2083,
    "credit": None,
    "rights": None,
}


def _check_url(value: str) -> None:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket in the host
        raise BadRequest("'acquire' must be an absolute URL.") from None
    if (not parts.scheme or not parts.netloc or any(c.isspace() for c in value)
            or not parts.scheme[0].isalpha()):
        raise BadRequest("'acquire' must be an absolute URL.")


def _check_keywords(value: Any) -> str | list[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise BadRequest("'keywords' must be a string or an array of strings.")


def inline_metadata(body: Any) -> dict[str, Any]:
    """Validate a parsed JSON body; return the fields that are set (nulls dropped).

    Unknown keys are ignored, as the incumbent's model does.

    Raises:
        BadRequest: not an object, a field of the wrong type, too long, or a bad URL.
    """
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    result: dict[str, Any] = {}
    for name, limit in STRING_FIELDS.items():
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(f"'{name}' must be a string.")
        if limit is not None and len(value) > limit:
            raise BadRequest(f"'{name}' must be at most {limit} characters long.")
        result[name] = value
    if "acquire" in result:
        _check_url(result["acquire"])
    if body.get("keywords") is not None:
        result["keywords"] = _check_keywords(body["keywords"])
    return result
