"""Query-string helpers for processing routes."""

from __future__ import annotations

from collections.abc import Mapping

from kernel import BadRequest

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def query_bool(args: Mapping[str, str], name: str) -> bool | None:
    """Parse an optional boolean query parameter.

    Raises:
        BadRequest: the value is not a boolean.
    """
    raw = args.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadRequest(f"Query parameter '{name}' must be a boolean (true or false).")
