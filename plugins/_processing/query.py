"""Query-string helpers for processing routes."""

from __future__ import annotations

from collections.abc import Mapping

from kernel import BadRequest, parse_bool


def query_bool(args: Mapping[str, str], name: str) -> bool | None:
    """Parse an optional boolean query parameter.

    Raises:
        BadRequest: the value is not a boolean.
    """
    raw = args.get(name)
    if raw is None:
        return None
    try:
        return parse_bool(raw)
    except ValueError:
        raise BadRequest(f"Query parameter '{name}' must be a boolean (true or false).") from None
