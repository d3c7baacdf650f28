"""Jobs over HTTP: ``Prefer: respond-async`` / ``wait`` answers and the job resource routes.

``GET /api/v1/jobs/{job_id}`` returns the job's state; ``GET /api/v1/jobs/{job_id}/events`` streams
it as server-sent events: the current state first, then one event per change (the event id is
the state's ``seq``, so ``Last-Event-ID`` skips what a reconnecting client has seen), a comment
line as heartbeat while nothing changes, and the end of the stream after ``done``/``failed``.
A job is as readable as its package's result (the kernel's access rule for ``result``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import trio
from quart import Blueprint, Response, request

from kernel.config import Settings
from kernel.context import API_PREFIX, runtime
from kernel.errors import NotFound, problem_response
from kernel.hookspecs import hookimpl
from kernel.job_record import DONE, JobRecord, media_id_of
from kernel.jobs import JobBoard, Progress, Work
from kernel.prefer import parse_prefer
from kernel.privacy import open_package
from kernel.storage import UploadMeta

blueprint = Blueprint("kernel_jobs", __name__, url_prefix=API_PREFIX)

#: The access rule's name for reading a job (its result is the package's result).
ACCESS_ACTION = "result"


async def _no_progress(phase: str) -> None:
    return None


def job_location(job_id: str) -> str:
    return f"{API_PREFIX}/jobs/{job_id}"


async def _discard(meta: UploadMeta) -> None:
    with trio.CancelScope(shield=True):
        await runtime().storage.delete(meta.media_id)


async def run_upload_job(meta: UploadMeta, work: Work, *, location: str | None,
                         status: int = 201, keep: bool = True,
                         headers: Callable[[dict[str, Any]], Mapping[str, str]] | None = None
                         ) -> Any:
    """Answer a request that created the package ``meta`` and must now process it.

    Without a ``Prefer`` header: run ``work`` now and answer ``status`` with its body (the
    package is deleted when it fails, and also when it succeeds unless ``keep``). With
    ``Prefer: respond-async``: 202 and a job resource as soon as the job is queued; the
    package then stays until it expires (or is deleted), since the job's state is part of it.
    With ``Prefer: wait=N``: the synchronous answer (and its ``keep``) when the job ends
    within N seconds, else the 202.

    Args:
        meta: the package, already stored.
        work: computes the success body; raises :class:`HttpError` for a client-safe failure.
        location: the ``Location`` of the success answer, if it has one.
        status: the success status (201 for a created resource).
        keep: keep the package after a synchronous success.
        headers: more headers of the success answer, from its body.
    """

    def answer(body: dict[str, Any], **extra: str) -> tuple[dict[str, Any], int, dict[str, str]]:
        sent = {**extra, **(headers(body) if headers else {})}
        if location is not None:
            sent["Location"] = location
        return body, status, sent

    prefer = parse_prefer(request.headers.getlist("Prefer"))
    if not prefer.asynchronous:
        try:
            body = await work(_no_progress)
        except BaseException:
            await _discard(meta)
            raise
        if not keep:
            await _discard(meta)
        return answer(body)
    rt = runtime()
    try:
        record = await rt.jobs.submit(meta, work)
    except BaseException:
        await _discard(meta)
        raise
    if prefer.wait:
        final = await rt.jobs.wait_finished(record.job_id, min(prefer.wait,
                                                               rt.settings.kernel.process_timeout))
        if final is not None and final.status == DONE and final.result is not None:
            if not keep:  # answered like a synchronous request: nothing of it stays
                await _discard(meta)
            return answer(final.result, Vary="Prefer")
        if final is not None and final.error is not None:
            await _discard(meta)
            return problem_response(int(final.error["status"]), str(final.error["detail"]))
    body = {"job_id": record.job_id, "status": record.status, "media_id": meta.media_id}
    return body, 202, {"Location": job_location(record.job_id),
                       "Preference-Applied": "respond-async", "Vary": "Prefer"}


async def _readable(job_id: str) -> JobRecord:
    """The job, after the package's access rule; 404 for unknown ids and expired packages."""
    record = await runtime().jobs.read(job_id)
    try:
        await open_package(media_id_of(job_id), ACCESS_ACTION)
    except NotFound:
        raise NotFound("No such job.") from None
    return record


@blueprint.get("/jobs/<job_id>")
async def get_job(job_id: str) -> Response:
    record = await _readable(job_id)
    response = Response(json.dumps(record.view(time.time())), content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _event(record: JobRecord) -> str:
    return f"id: {record.seq}\ndata: {json.dumps(record.view(time.time()))}\n\n"


def _last_event_id() -> int:
    raw = request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else 0


async def _events(jobs: JobBoard, first: JobRecord, seen: int, poll: float,
                  heartbeat: float) -> AsyncIterator[bytes]:
    """The event stream of one job (runs outside the request context: no Quart globals)."""
    record = first
    quiet_since = trio.current_time()
    yield b"retry: 2000\n\n"
    try:  # after a Last-Event-ID, every state since (as far as this instance keeps them)
        states = await jobs.states_after(first.job_id, seen) if seen else [first]
    except NotFound:
        return
    while True:
        for record in states:
            if record.seq > seen:
                yield _event(record).encode()
                seen = record.seq
                quiet_since = trio.current_time()
        if record.terminal:
            return
        until_heartbeat = quiet_since + heartbeat - trio.current_time()
        await jobs.wait_change(record.job_id, seen, max(0.0, min(poll, until_heartbeat)))
        if trio.current_time() - quiet_since >= heartbeat:
            yield b": heartbeat\n\n"
            quiet_since = trio.current_time()
        try:
            states = await jobs.states_after(record.job_id, seen)
        except NotFound:  # the package was deleted or expired meanwhile
            return


@blueprint.get("/jobs/<job_id>/events")
async def job_events(job_id: str) -> Response:
    record = await _readable(job_id)
    rt = runtime()
    kernel = rt.settings.kernel
    body = _events(rt.jobs, record, _last_event_id(), kernel.job_poll_interval,
                   kernel.job_heartbeat)
    response = Response(body, content_type="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    response.timeout = None  # type: ignore[assignment]
    return response


# --- hooks --------------------------------------------------------------------------------


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    return [blueprint]


@hookimpl
def status_report(app: Any, private: bool) -> dict[str, Any]:
    """Queue figures, like the worker counters, only for ``status_networks``."""
    from kernel.context import runtime_of

    return {"jobs": runtime_of(app).jobs.statistics()} if private else {}


__all__ = ["Progress", "Work", "job_location", "run_upload_job"]
