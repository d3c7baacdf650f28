"""The stored state of one asynchronous job (``<media_id>.job.json``) and job ids.

Job ids are the media id followed by 64 random bits (26 characters of lowercase base32hex);
the record holds the whole id, so knowing the media id alone finds no job.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from typing import Any

import attrs

from kernel.errors import NotFound, problem_body
from kernel.storage import Storage, new_media_id

SIDECAR = "job.json"
QUEUED, PROCESSING, DONE, FAILED = "queued", "processing", "done", "failed"
TERMINAL = frozenset({DONE, FAILED})
JOB_ID = re.compile(r"[a-v0-9]{26}")
DIED = "The server processing this job stopped before it finished; submit the file again."


def new_job_id(media_id: str) -> str:
    """The media id followed by another 64 bits from the CSPRNG, in the same alphabet."""
    return media_id + new_media_id()


def media_id_of(job_id: str) -> str:
    """The media id inside a job id. Raises: NotFound for anything that is not a job id."""
    if not JOB_ID.fullmatch(job_id):
        raise NotFound("No such job.")
    return job_id[:13]


@attrs.frozen(kw_only=True)
class JobRecord:
    """One job's state as stored (``<media_id>.job.json``). Times are Unix seconds."""

    job_id: str
    media_id: str
    status: str
    phase: str
    queued_ahead: int = 0
    seq: int = 1
    created: float
    finished: float | None = None
    lease_until: float
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def to_json(self) -> bytes:
        return json.dumps(attrs.asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> JobRecord:
        raw = json.loads(data)
        names = {f.name for f in attrs.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})

    def as_seen(self, now: float) -> JobRecord:
        """This record as a reader reports it: failed once an unfinished job's lease ran out."""
        if self.terminal or now <= self.lease_until:
            return self
        return attrs.evolve(self, status=FAILED, phase=FAILED, seq=self.seq + 1,
                            queued_ahead=0, finished=self.lease_until,
                            error=problem_body(503, DIED))

    def view(self, now: float) -> dict[str, Any]:
        """The public body of ``GET /jobs/{job_id}`` (and of each event)."""
        end = self.finished if self.finished is not None else now
        body: dict[str, Any] = {
            "job_id": self.job_id, "media_id": self.media_id, "status": self.status,
            "phase": self.phase, "queued_ahead": self.queued_ahead,
            "elapsed_s": round(max(0.0, end - self.created), 3),
        }
        if self.result is not None:
            body["result"] = self.result
        if self.error is not None:
            body["error"] = self.error
        return body


async def load_record(storage: Storage, job_id: str) -> JobRecord:
    """A job's stored state, as a reader sees it now (:meth:`JobRecord.as_seen`).

    Raises:
        NotFound: no such job (also when its package expired or was deleted).
    """
    data = await storage.get_sidecar(media_id_of(job_id), SIDECAR)
    if data is None:
        raise NotFound("No such job.")
    try:
        record = JobRecord.from_json(data)
    except (ValueError, TypeError):
        raise NotFound("No such job.") from None
    if not hmac.compare_digest(record.job_id, job_id):
        raise NotFound("No such job.")
    return record.as_seen(time.time())
