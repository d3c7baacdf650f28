"""Asynchronous jobs whose state lives in storage, so any instance can answer for them.

A job belongs to one package: its state is the package's ``<media_id>.job.json`` sidecar, so
it expires (and is deleted) with the package. The instance running a job tells its local
watchers of every change at once (``seq`` counts them: the event id clients see) and stores
the queued record and the end at once, the progress in between at most once per
``job_poll_interval`` (the interval at which other instances read it), and a renewal of the
lease every third of ``job_lease``. A reader finding a record still queued or processing after
its lease ran out reports it failed (its instance died). Records, ids: :mod:`kernel.job_record`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from kernel.errors import HttpError, NotFound, ServiceUnavailable, problem_body
from kernel.job_record import (
    DONE,
    FAILED,
    PROCESSING,
    QUEUED,
    SIDECAR,
    JobRecord,
    load_record,
    new_job_id,
)
from kernel.storage import Storage, UploadMeta

log = logging.getLogger("iscc_web.jobs")

#: Seconds a stopping server gives a job to record that it did not finish.
STOP_GRACE = 5.0
STOPPED = "The server stopped before this job finished; submit the file again."

#: ``await progress("phase name")`` reports what a running job is doing.
Progress = Callable[[str], Awaitable[None]]
#: A job's work: returns the success body, raises :class:`HttpError` for a client-safe failure.
Work = Callable[[Progress], Awaitable[dict[str, Any]]]

#: States of a running job kept for its event streams, so a stream that wakes after several
#: changes still sends one event per change.
STATE_HISTORY = 64


class _Job:
    """A job this instance runs: its latest record, its recent states and what waits on it."""

    def __init__(self, record: JobRecord):
        self.record = record
        self.history: deque[JobRecord] = deque([record], maxlen=STATE_HISTORY)
        self.lock = trio.Lock()
        self.go = trio.Event()
        self.changed = trio.Event()
        self.finished = trio.Event()
        self.scope = trio.CancelScope()
        self.started = False
        self.unstored = False  # a progress state waits for its delayed write


class JobBoard:
    """Runs jobs in the app nursery, at most ``concurrency`` at once, first come first served.

    Args:
        storage: where job records live (the packages' backend).
        concurrency: jobs processed at once (the worker count).
        max_queue: jobs allowed to wait; more are refused with 503.
        lease: seconds a job's record stays valid without renewal.
        progress_delay: seconds a running job's progress may wait before it is stored.
    """

    def __init__(self, storage: Storage, *, concurrency: int, max_queue: int, lease: float,
                 progress_delay: float):
        self.storage = storage
        self.concurrency = concurrency
        self.max_queue = max_queue
        self.lease = lease
        self.progress_delay = progress_delay
        self._jobs: dict[str, _Job] = {}
        self._waiting: deque[_Job] = deque()
        self._running = 0
        self._nursery: trio.Nursery | None = None
        self._renewal = trio.CancelScope()
        self.completed = 0
        self.failed = 0

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        nursery.start_soon(self._renew_forever)

    async def stop(self) -> None:
        """Cancel every job; each records that it did not finish (bounded, shielded)."""
        self._nursery = None
        self._renewal.cancel()
        jobs = list(self._jobs.values())
        for job in jobs:
            job.scope.cancel()
        with trio.move_on_after(STOP_GRACE + 1) as scope:
            scope.shield = True
            for job in jobs:
                await job.finished.wait()

    # --- submitting and running ---------------------------------------------------------

    async def submit(self, meta: UploadMeta, work: Work) -> JobRecord:
        """Record a new queued job for the stored package ``meta`` and start it.

        Raises:
            ServiceUnavailable: the queue is full or not running.
            Whatever storage raises writing the record.
        """
        if self._nursery is None:
            raise ServiceUnavailable("The job queue is not running.")
        if self._running >= self.concurrency and len(self._waiting) >= self.max_queue:
            raise ServiceUnavailable("Too many jobs are waiting for a worker.")
        now = time.time()
        busy = self._running >= self.concurrency
        record = JobRecord(job_id=new_job_id(meta.media_id), media_id=meta.media_id,
                           status=QUEUED, phase="waiting for a worker",
                           queued_ahead=len(self._waiting) if busy else 0,
                           created=now, lease_until=now + self.lease)
        await self.storage.put_sidecar(meta.media_id, SIDECAR, record.to_json())
        job = _Job(record)
        self._jobs[record.job_id] = job
        self._waiting.append(job)
        self._nursery.start_soon(self._run, job, work)
        self._dispatch()
        return record

    def _dispatch(self) -> None:
        moved = False
        while self._running < self.concurrency and self._waiting:
            job = self._waiting.popleft()
            self._running += 1
            job.started = True
            job.go.set()
            moved = True
        if moved and self._nursery is not None:
            for job in list(self._waiting):
                self._nursery.start_soon(self._refresh_position, job)

    async def _refresh_position(self, job: _Job) -> None:
        async with job.lock:
            if job.record.status != QUEUED or job not in self._waiting:
                return
            ahead = self._waiting.index(job)
            if ahead != job.record.queued_ahead:
                await self._write(job, queued_ahead=ahead)

    async def _run(self, job: _Job, work: Work) -> None:
        try:
            with job.scope:
                await job.go.wait()
                outcome = await self._outcome(job, work)
                await self.publish(job, **outcome)
        finally:
            if job.started:
                self._running -= 1
            elif job in self._waiting:
                self._waiting.remove(job)
            if not job.record.terminal:
                with trio.move_on_after(STOP_GRACE) as scope:
                    scope.shield = True
                    await self.publish(job, status=FAILED, phase=FAILED,
                                       error=problem_body(503, STOPPED), finished=time.time())
            if job.record.status == DONE:
                self.completed += 1
            else:
                self.failed += 1
            self._jobs.pop(job.record.job_id, None)
            job.finished.set()
            self._dispatch()

    async def _outcome(self, job: _Job, work: Work) -> dict[str, Any]:
        await self.publish(job, status=PROCESSING, phase="starting", queued_ahead=0)

        async def progress(phase: str) -> None:
            await self.publish(job, phase=phase)

        try:
            result = await work(progress)
        except HttpError as exc:
            error = problem_body(exc.status, exc.detail)
        except Exception as exc:
            log.error("job failed unexpectedly: %r", exc, exc_info=exc)
            error = problem_body(500, "Internal server error.")
        else:
            return {"status": DONE, "phase": DONE, "result": result, "finished": time.time()}
        return {"status": FAILED, "phase": FAILED, "error": error, "finished": time.time()}

    # --- writing records ----------------------------------------------------------------

    async def publish(self, job: _Job, **changes: Any) -> None:
        """Apply ``changes`` as a new state (``seq`` + 1), store it and wake local watchers."""
        async with job.lock:
            await self._write(job, **changes)

    async def _write(self, job: _Job, *, renew_only: bool = False, **changes: Any) -> None:
        """Apply ``changes`` (under ``job.lock``); store the record now if it is a renewal or
        the job's end, else within ``progress_delay`` (the same write carries later changes)."""
        seq = job.record.seq if renew_only else job.record.seq + 1
        job.record = attrs.evolve(job.record, seq=seq, lease_until=time.time() + self.lease,
                                  **changes)
        if not renew_only:
            job.history.append(job.record)
            changed, job.changed = job.changed, trio.Event()
            changed.set()
        if renew_only or job.record.terminal or self._nursery is None:
            await self._store(job)
        elif not job.unstored:
            job.unstored = True
            self._nursery.start_soon(self._store_later, job)

    async def _store_later(self, job: _Job) -> None:
        with trio.move_on_after(self.progress_delay):  # a job that ends stores its end itself
            await job.finished.wait()  # (and nothing waits for this task when the app stops)
        async with job.lock:
            if job.unstored:  # else a renewal or the job's end stored it meanwhile
                await self._store(job)

    async def _store(self, job: _Job) -> None:
        job.unstored = False
        try:
            await self.storage.put_sidecar(job.record.media_id, SIDECAR, job.record.to_json())
        except NotFound:  # the package was deleted: nobody can ask for this job any more
            job.scope.cancel()
        except Exception as exc:  # the store failed; the next write or renewal retries
            log.warning("could not store a job's state: %r", exc)

    async def _renew_forever(self) -> None:
        with self._renewal:
            while True:
                await trio.sleep(self.lease / 3)
                for job in list(self._jobs.values()):
                    if not job.record.terminal:
                        async with job.lock:
                            await self._write(job, renew_only=True)

    # --- reading ------------------------------------------------------------------------

    async def read(self, job_id: str) -> JobRecord:
        """The job's current state, from this instance or from storage.

        Raises:
            NotFound: no such job (also when its package expired or was deleted).
        """
        local = self._jobs.get(job_id)
        if local is not None:
            return local.record
        return await load_record(self.storage, job_id)

    async def states_after(self, job_id: str, seen: int) -> list[JobRecord]:
        """The job's states after state ``seen``, oldest first, ending with the current one
        (just the current one when nothing changed). A job of this instance has each of its
        recent states; another instance's job only the one it stored last.

        Raises:
            NotFound: as :meth:`read`.
        """
        local = self._jobs.get(job_id)
        if local is not None:
            newer = [state for state in local.history if state.seq > seen]
            if newer and newer[-1].seq == local.record.seq:
                return newer
            return [local.record]
        return [await self.read(job_id)]

    async def wait_change(self, job_id: str, seen: int, seconds: float) -> None:
        """Return when a job of this instance moved past state ``seen``, or after ``seconds``."""
        with trio.move_on_after(seconds):
            job = self._jobs.get(job_id)
            if job is None:
                await trio.sleep_forever()  # another instance's job: the caller polls storage
            assert job is not None
            while job.record.seq <= seen and not job.finished.is_set():
                await job.changed.wait()

    async def wait_finished(self, job_id: str, seconds: float) -> JobRecord | None:
        """The final record of a job of this instance if it ends within ``seconds``."""
        job = self._jobs.get(job_id)
        if job is None:  # already finished (or another instance's): the stored state
            record = await self.read(job_id)
            return record if record.terminal else None
        with trio.move_on_after(seconds):
            await job.finished.wait()
        return job.record if job.record.terminal else None

    def statistics(self) -> dict[str, Any]:
        """Jobs of this instance: waiting, being processed, and finished since start."""
        return {"queued": len(self._waiting), "processing": self._running,
                "concurrency": self.concurrency, "max_queue": self.max_queue,
                "completed": self.completed, "failed": self.failed}
