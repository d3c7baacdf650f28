"""A plugin whose route hands ``receive_upload`` an observer, as a third party would."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import blake3
from quart import Blueprint, request

from kernel import API_PREFIX, Settings, hookimpl, receive_upload

blueprint = Blueprint("observed", __name__, url_prefix=API_PREFIX)


class Recorder:
    """Hashes what it is fed and notes where and how; can be slow or fail on request."""

    def __init__(self, delay: float = 0.0, fail_after: int | None = None):
        self.hasher = blake3.blake3()
        self.size = 0
        self.chunks = 0
        self.sizes: list[int] = []
        self.threads: set[int] = set()
        self.concurrent = 0
        self.most_concurrent = 0
        self.delay = delay
        self.fail_after = fail_after
        self._lock = threading.Lock()

    def update(self, chunk: bytes) -> None:
        with self._lock:
            self.concurrent += 1
            self.most_concurrent = max(self.most_concurrent, self.concurrent)
        try:
            self.threads.add(threading.get_ident())
            if self.fail_after is not None and self.size >= self.fail_after:
                raise RuntimeError("observer failed")
            time.sleep(self.delay)
            self.hasher.update(chunk)
            self.size += len(chunk)
            self.chunks += 1
            self.sizes.append(len(chunk))
        finally:
            with self._lock:
                self.concurrent -= 1


@blueprint.post("/observed")
async def observed() -> dict:
    recorder = Recorder(delay=float(request.args.get("delay", 0)),
                        fail_after=int(request.args["fail_after"])
                        if "fail_after" in request.args else None)
    meta = await receive_upload(recorder)
    return {"media_id": meta.media_id, "blake3": recorder.hasher.hexdigest(),
            "size": recorder.size, "chunks": recorder.chunks, "sizes": recorder.sizes,
            "loop_thread": threading.get_ident() in recorder.threads,
            "most_concurrent": recorder.most_concurrent}


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    return [blueprint]
