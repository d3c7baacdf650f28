"""Exceptions that cross the worker-process boundary (picklable, free of library types)."""

from __future__ import annotations


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
