"""The worker pool contract: CPU-heavy jobs in separate processes, bounded and crash-tolerant.

Backends implement :class:`Workers`; the default one is :mod:`kernel.workers_parallel`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

#: Seconds a client is told to wait when the queue is full.
RETRY_AFTER = "5"


class Workers(Protocol):
    """Runs plain functions in worker processes."""

    async def start(self) -> None:
        """Open the pool; called when serving starts (within the lifespan task)."""

    async def stop(self) -> None:
        """Close the pool; called when serving stops."""

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a worker and return its result or raise its exception.

        Raises:
            ServiceUnavailable: too many jobs waiting, or the worker died twice.
            JobTimeout: the job ran past the configured time limit.
        """

    async def warm(self) -> None:
        """Start every worker now, so the first request does not pay for it."""

    def ready(self) -> bool:
        """Whether the pool is running and accepts jobs (``GET /readyz``)."""

    def statistics(self) -> dict[str, Any]:
        """At least ``idle``, ``running`` and ``queued`` job counts."""


def run_initializers(initializers: Sequence[Callable[[], None]], niceness: int = 0) -> None:
    """Start a worker process: lower its priority, then run each plugin's initialiser.

    Workers ignore SIGINT and SIGTERM: a Ctrl+C or a service manager signals the whole process
    group, but the server decides when its workers stop (it drains them on shutdown and kills
    the ones it must).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if niceness:
        os.nice(niceness)
    for init in initializers:
        init()
