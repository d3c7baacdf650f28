"""Exceptions that cross the worker-process boundary (picklable, free of library types)."""

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


class ProcessingFailed(Exception):
    """A worker job failed; ``detail`` is safe to show to clients (no paths, no internals)."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class ToolMissing(Exception):
    """An external program (``ffmpeg``, ``ffprobe``, ``fpcalc``) is not available."""

    def __init__(self, tool: str):
        super().__init__(tool)
        self.tool = tool

    @property
    def detail(self) -> str:
        return f"{self.tool} is not installed on this server; this media type cannot be processed."
