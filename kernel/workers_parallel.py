"""The default worker backend: a trio-parallel worker context with admission control."""

from __future__ import annotations

import functools
import logging
import math
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import trio
import trio_parallel

from kernel.config import Settings
from kernel.errors import JobTimeout, JobTooComplex, ServiceUnavailable
from kernel.hookspecs import hookimpl
from kernel.sandbox import JobRoot
from kernel.sandbox_worker import (
    ResourceLimitHit,
    enter_worker,
    run_in_job,
    should_retire,
    warm_up,
)
from kernel.workers import Job, Workers, run_initializers, worker_count

log = logging.getLogger("iscc_web.workers")

T = TypeVar("T")


#: Work root when none is configured: ``<system temp dir>/iscc-web-work``.
DEFAULT_WORK_ROOT = "iscc-web-work"
#: Seconds a new worker may take to start and run the plugins' initialisers; not counted
#: towards the job's ``process_timeout``.
STARTUP_TIMEOUT = 120.0


class TrioParallelWorkers:
    """A trio-parallel worker context with admission control, retries and a time limit.

    Every job runs sandboxed (:mod:`kernel.sandbox`, :mod:`kernel.sandbox_worker`): in a
    private directory under ``work_path``, in a worker that leads its own session under
    ``memory_limit``; a job that times out, is cancelled or kills its worker has the
    worker's whole session killed.
    """

    def __init__(self, *, max_workers: int, max_queue: int, timeout: float,
                 initializers: Sequence[Callable[[], None]] = (), niceness: int = 0,
                 work_path: Path | None = None, memory_limit: int = 0, recycle_rss: int = 0):
        self.max_workers = max_workers
        self.max_queue = max_queue
        self.timeout = timeout
        self.jobs = JobRoot(work_path or Path(tempfile.gettempdir()) / DEFAULT_WORK_ROOT)
        self._initializers = tuple(initializers)
        self._niceness = niceness
        self._limits = (memory_limit, recycle_rss)
        self._limiter = trio.CapacityLimiter(max_workers)
        self._unlimited = trio.CapacityLimiter(math.inf)
        self._stack = AsyncExitStack()
        self._ctx: Any = None
        self.completed = 0
        self.crashed = 0
        self.timed_out = 0
        self.rejected = 0
        self.too_complex = 0

    async def __aenter__(self) -> TrioParallelWorkers:
        await trio.to_thread.run_sync(self.jobs.start)
        self._stack.push_async_callback(self._end_jobs)
        confine = functools.partial(enter_worker, os.getpid(), str(self.jobs.path), *self._limits)
        init = functools.partial(run_initializers, self._initializers, self._niceness, confine)
        self._ctx = await self._stack.enter_async_context(trio_parallel.open_worker_context(
            init=init, retire=should_retire, idle_timeout=3600.0))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._ctx = None
        with trio.CancelScope(shield=True):
            try:
                await self._stack.aclose()
            except trio_parallel.BrokenWorkerError as exc:
                log.warning("a worker did not stop cleanly: %s", exc.args[0])

    async def _end_jobs(self) -> None:
        """After the pool: end what dead workers left behind and remove the job root."""
        with trio.CancelScope(shield=True):
            await self._end_dead_workers()
            await trio.to_thread.run_sync(self.jobs.stop)

    @asynccontextmanager
    async def open_job(self) -> AsyncIterator[Job]:
        if self._ctx is None:
            raise ServiceUnavailable("The worker pool is not running.")
        path = self.jobs.take_spare()  # no thread hop when an emptied directory is kept
        if path is None:
            path = await trio.to_thread.run_sync(self.jobs.new_job)
        reuse = False
        try:
            yield Job(path, self._run_job)
            reuse = True  # no time limit, cancellation, crash or error ended the block
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(
                    functools.partial(self.jobs.end_job, path, reuse=reuse))

    async def _end_dead_workers(self) -> None:
        """Kill every process that workers which are gone left behind (their tools)."""
        with trio.CancelScope(shield=True):
            killed = await trio.to_thread.run_sync(self.jobs.end_dead_workers)
        if killed:
            log.info("ended %d process(es) left by a stopped job", killed)

    async def _ensure_worker(self) -> None:
        """Start a worker first if none is idle, so the job's time limit is the job's alone."""
        if self._ctx.statistics().idle_workers:
            return
        with trio.move_on_after(STARTUP_TIMEOUT) as scope:
            await self._ctx.run_sync(warm_up, kill_on_cancel=True, limiter=self._unlimited)
        if scope.cancelled_caught:
            raise ServiceUnavailable("No worker could be started; try again.")

    async def _run_once(self, job: Path, fn: Callable[..., T], *args: Any) -> T:
        await self._ensure_worker()
        with trio.move_on_after(self.timeout) as scope:
            try:
                return await self._ctx.run_sync(run_in_job, str(job), fn, *args,
                                                kill_on_cancel=True, limiter=self._unlimited)
            except ResourceLimitHit:
                self.too_complex += 1
                raise JobTooComplex() from None
            except (trio_parallel.BrokenWorkerError, trio.Cancelled):
                # the worker died, or was killed (time limit, cancelled request): its tools too
                await self._end_dead_workers()
                raise
        assert scope.cancelled_caught
        self.timed_out += 1
        raise JobTimeout()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        async with self.open_job() as job:
            return await job.run(fn, *args)

    async def _run_job(self, job: Path, fn: Callable[..., T], *args: Any) -> T:
        if self._ctx is None:
            raise ServiceUnavailable("The worker pool is not running.")
        busy = self._limiter.available_tokens == 0
        if busy and self._limiter.statistics().tasks_waiting >= self.max_queue:
            self.rejected += 1
            raise ServiceUnavailable("Too many jobs are waiting for a worker.")
        async with self._limiter:
            for attempt in (1, 2):
                try:
                    result = await self._run_once(job, fn, *args)
                except trio_parallel.BrokenWorkerError:
                    self.crashed += 1
                    log.warning("worker died during a job (attempt %d)", attempt)
                    continue
                self.completed += 1
                return result
        raise ServiceUnavailable("The worker stopped unexpectedly; try again.")

    async def warm(self) -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(self.max_workers):
                nursery.start_soon(self._warm_one)

    async def _warm_one(self) -> None:
        async with self._limiter:
            await self._ensure_worker()

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
            "too_complex": self.too_complex,
        }


def _create_trio_parallel(settings: Settings,
                          initializers: Sequence[Callable[[], None]]) -> Workers:
    k = settings.kernel
    return TrioParallelWorkers(
        max_workers=worker_count(settings),
        max_queue=k.max_queue,
        timeout=k.process_timeout,
        initializers=initializers,
        niceness=k.worker_niceness,
        work_path=Path(k.work_path) if k.work_path else None,
        memory_limit=k.worker_memory_limit,
        recycle_rss=k.worker_recycle_rss,
    )


@hookimpl(trylast=True)
def register_workers() -> Mapping[str, Callable[..., Workers]]:
    return {"trio-parallel": _create_trio_parallel}
