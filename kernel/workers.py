"""The worker pool contract: CPU-heavy jobs in separate processes, bounded and crash-tolerant.

Backends implement :class:`Workers`; the default one is :mod:`kernel.workers_parallel`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from kernel.config import Settings

from kernel.sandbox import place_input

T = TypeVar("T")



class Job:
    """One job's private directory, and the way to run worker functions inside it.

    Made by :meth:`Workers.open_job`; everything in the directory is removed when the block is
    left, also when the worker was killed (an emptied directory may serve a later job). Worker
    functions run with their working directory and ``TMPDIR`` in it, and must be handed only
    paths inside it.
    """

    def __init__(self, path: Path, runner: Callable[..., Awaitable[Any]]):
        self.path = path
        self._runner = runner

    async def add_input(self, source: Path, name: str | None = None) -> Path:
        """A read-only hard link (or copy) of ``source`` in the job's directory.

        Raises:
            NotFound("File not found"): ``source`` is not a file.
        """
        import trio  # not at import time: worker processes import this module without trio

        try:
            return await trio.to_thread.run_sync(place_input, source, self.path,
                                                 name or source.name)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            from kernel.errors import NotFound

            raise NotFound("File not found") from None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a worker, inside this job (see :meth:`Workers.run_sync`)."""
        return await self._runner(self.path, fn, *args)


class Workers(Protocol):
    """Runs plain functions in worker processes, each job confined to a private directory."""

    async def __aenter__(self) -> Workers:
        """Open the pool; entered when serving starts (the app's exit stack)."""

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the pool and end what its jobs left, also after a failure."""

    def open_job(self) -> AbstractAsyncContextManager[Job]:
        """An empty private job directory; what the job left is removed after the block."""

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a worker, in a job of its own; return its result or raise.

        Whatever the job started (external tools and their children) is ended with it.

        Raises:
            ServiceUnavailable: too many jobs waiting, or the worker died twice.
            JobTimeout: the job ran past the configured time limit.
            JobTooComplex: the job exhausted the worker's memory limit.
        """

    async def warm(self) -> None:
        """Start every worker now, so the first request does not pay for it."""

    def ready(self) -> bool:
        """Whether the pool is running and accepts jobs (``GET /readyz``)."""

    def statistics(self) -> dict[str, Any]:
        """At least ``idle``, ``running`` and ``queued`` job counts."""


def run_initializers(initializers: Sequence[Callable[[], None]], niceness: int = 0,
                     confine: Callable[[], None] | None = None) -> None:
    """Start a worker process: confine it, lower its priority, then run each plugin's initialiser.

    ``confine`` is the backend's sandbox set-up (:func:`kernel.sandbox_worker.enter_worker`),
    run before any plugin code.

    Workers ignore SIGINT and SIGTERM: a Ctrl+C or a service manager signals the whole process
    group, but the server decides when its workers stop (it drains them on shutdown and kills
    the ones it must).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if confine is not None:
        confine()
    if niceness:
        os.nice(niceness)
    for init in initializers:
        init()


def worker_count(settings: Settings) -> int:
    """Worker processes a pool runs: ``max_workers``, else the CPU count."""
    return settings.kernel.max_workers or os.cpu_count() or 1
