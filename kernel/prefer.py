"""The ``Prefer`` request header (RFC 7240): ``respond-async`` and ``wait``."""

from __future__ import annotations

from collections.abc import Iterable

import attrs


@attrs.frozen
class Preferences:
    """What a client asked for; ``asynchronous`` is true when either preference was given."""

    respond_async: bool = False
    wait: float | None = None

    @property
    def asynchronous(self) -> bool:
        return self.respond_async or self.wait is not None


def _split(header: str, separator: str) -> list[str]:
    """Split at ``separator`` outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_prefer(values: Iterable[str]) -> Preferences:
    """Read every ``Prefer`` header value; unknown or malformed preferences are ignored.

    RFC 7240 §2: preferences are comma-separated ``token [= value] *(; parameter)``, names are
    case-insensitive, a value may be quoted, and the first occurrence of a name wins.
    """
    seen: dict[str, str] = {}
    for value in values:
        for item in _split(value, ","):
            head = _split(item, ";")[0]
            name, _, raw = head.partition("=")
            name = name.strip().lower()
            if name and name not in seen:
                seen[name] = raw.strip().strip('"')
    wait: float | None = None
    if "wait" in seen:
        try:
            seconds = int(seen["wait"])  # delta-seconds: digits only
        except ValueError:
            seconds = -1
        if seconds >= 0 and seen["wait"].isdigit():
            wait = float(seconds)
    return Preferences(respond_async="respond-async" in seen, wait=wait)
