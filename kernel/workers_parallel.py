"""The default worker backend: a trio-parallel worker context with admission control."""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import trio
import trio_parallel

from kernel.config import Settings
from kernel.errors import JobTimeout, ServiceUnavailable
from kernel.hookspecs import hookimpl
from kernel.workers import RETRY_AFTER, Workers, run_initializers

log = logging.getLogger("iscc_web.workers")

T = TypeVar("T")


def _noop() -> int:
    return os.getpid()


class TrioParallelWorkers:
    """A trio-parallel worker context with admission control, retries and a time limit."""

    def __init__(self, *, max_workers: int, max_queue: int, timeout: float,
                 initializers: Sequence[Callable[[], None]] = (), niceness: int = 0):
        self.max_workers = max_workers
        self.max_queue = max_queue
        self.timeout = timeout
        self._init = functools.partial(run_initializers, tuple(initializers), niceness)
        self._limiter = trio.CapacityLimiter(max_workers)
        self._unlimited = trio.CapacityLimiter(math.inf)
        self._cm: Any = None
        self._ctx: Any = None
        self.completed = 0
        self.crashed = 0
        self.timed_out = 0
        self.rejected = 0

    async def start(self) -> None:
        self._cm = trio_parallel.open_worker_context(init=self._init, idle_timeout=3600.0)
        self._ctx = await self._cm.__aenter__()

    async def stop(self) -> None:
        if self._cm is not None:
            cm, self._cm, self._ctx = self._cm, None, None
            with trio.CancelScope(shield=True):
                try:
                    await cm.__aexit__(None, None, None)
                except trio_parallel.BrokenWorkerError as exc:
                    log.warning("a worker did not stop cleanly: %s", exc.args[0])

    async def _run_once(self, fn: Callable[..., T], *args: Any) -> T:
        with trio.move_on_after(self.timeout) as scope:
            return await self._ctx.run_sync(fn, *args, kill_on_cancel=True,
                                            limiter=self._unlimited)
        assert scope.cancelled_caught
        self.timed_out += 1
        raise JobTimeout()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        if self._ctx is None:
            raise ServiceUnavailable("The worker pool is not running.")
        busy = self._limiter.available_tokens == 0
        if busy and self._limiter.statistics().tasks_waiting >= self.max_queue:
            self.rejected += 1
            raise ServiceUnavailable(
                "Too many jobs are waiting for a worker.", headers={"Retry-After": RETRY_AFTER}
            )
        async with self._limiter:
            for attempt in (1, 2):
                try:
                    result = await self._run_once(fn, *args)
                except trio_parallel.BrokenWorkerError:
                    self.crashed += 1
                    log.warning("worker died during a job (attempt %d)", attempt)
                    continue
                self.completed += 1
                return result
        raise ServiceUnavailable(
            "The worker stopped unexpectedly; try again.", headers={"Retry-After": RETRY_AFTER}
        )

    async def warm(self) -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(self.max_workers):
                nursery.start_soon(self.run_sync, _noop)

    def ready(self) -> bool:
        return self._ctx is not None

    def statistics(self) -> dict[str, Any]:
        limiter = self._limiter.statistics()
        ctx = self._ctx.statistics() if self._ctx is not None else None
        return {
            "backend": "trio-parallel",
            "max_workers": self.max_workers,
            "idle": ctx.idle_workers if ctx else 0,
            "running": limiter.borrowed_tokens,
            "queued": limiter.tasks_waiting,
            "max_queue": self.max_queue,
            "completed": self.completed,
            "crashed": self.crashed,
            "timed_out": self.timed_out,
            "rejected": self.rejected,
        }


def _create_trio_parallel(settings: Settings,
                          initializers: Sequence[Callable[[], None]]) -> Workers:
    k = settings.kernel
    return TrioParallelWorkers(
        max_workers=k.max_workers or os.cpu_count() or 1,
        max_queue=k.max_queue,
        timeout=k.process_timeout,
        initializers=initializers,
        niceness=k.worker_niceness,
    )


@hookimpl(trylast=True)
def register_workers() -> Mapping[str, Callable[..., Workers]]:
    return {"trio-parallel": _create_trio_parallel}
