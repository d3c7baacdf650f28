"""Walking an exception's cause chain (light: used in worker processes too)."""

from __future__ import annotations

from typing import TypeVar

E = TypeVar("E", bound=BaseException)


def find_cause(exc: BaseException | None, kinds: type[E] | tuple[type[E], ...]) -> E | None:
    """The first exception of ``kinds`` in ``exc``'s cause/context chain (``exc`` included)."""
    seen: set[int] = set()
    current = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
