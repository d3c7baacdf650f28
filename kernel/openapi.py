"""The served OpenAPI document: the fragments of every enabled plugin, merged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "ISCC-WEB Generator API",
        "description": "Simple ISCC Generator Service",
        "version": "0.3.2",
    },
    "servers": [{"url": "/api/v1"}],
}


def _merge(into: dict[str, Any], fragment: Mapping[str, Any], path: str) -> None:
    for key, value in fragment.items():
        if key in into and isinstance(into[key], dict) and isinstance(value, Mapping):
            _merge(into[key], value, f"{path}.{key}")
        elif key in into and isinstance(into[key], list) and isinstance(value, list):
            into[key].extend(v for v in value if v not in into[key])
        elif key in into and into[key] != value:
            raise ValueError(f"OpenAPI fragments disagree at {path}.{key}")
        else:
            into[key] = value if not isinstance(value, Mapping) else _copy(value)


def _copy(value: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    _merge(merged, value, "")
    return merged


def merge_fragments(fragments: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge plugin fragments over the base document; conflicting leaves are an error."""
    document = _copy(BASE)
    document.setdefault("paths", {})
    for fragment in fragments:
        _merge(document, fragment, "$")
    return document
