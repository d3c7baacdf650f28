"""A bounded local staging area for files that worker processes must read from disk.

Each instance owns one directory under ``cache_dir`` and holds an exclusive ``flock`` on a
lock file inside it while it runs; at start-up, directories whose lock can be taken belong
to instances that died and are removed. Several instances may share one ``cache_dir``.

Two kinds of files share the byte bound: **slots**, copies read back from the store for a job
(:meth:`StagingCache.slot`), and **local copies** written while an upload streams to the store
(:meth:`StagingCache.begin_copy`), kept until the job that asked for them takes them
(:meth:`StagingCache.take`) so that processing a fresh upload never reads it back. A local
copy is an optimisation only: it is dropped when it does not fit, when the disk fails, when a
slot needs its room, or when no job took it within :data:`KEEP_SECONDS`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import trio

from kernel import InsufficientStorage, ServiceUnavailable

log = logging.getLogger("iscc_web.storage.s3")

LOCK_NAME = ".lock"
INSTANCE_PREFIX = "instance-"
#: Seconds a finished local copy waits for its job before it is dropped.
KEEP_SECONDS = 120.0
#: Emptied copy directories kept for the next uploads: each reuse saves a ``mkdir`` and an
#: ``rmdir`` (on ext4 without a journal, every inode allocation first skips the inodes freed
#: recently, milliseconds of system time per upload under load).
SPARE_DIRS = 8


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "iscc-web-s3-cache"


def _remove_dead_instances(root: Path) -> None:
    for entry in root.glob(INSTANCE_PREFIX + "*"):
        try:
            with open(entry / LOCK_NAME, "a+b") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live instance holds it
        except OSError:
            pass  # no lock file: a half-created or foreign directory of ours
        shutil.rmtree(entry, ignore_errors=True)


class LocalCopy:
    """The local copy of one upload, written part by part while the upload streams to the store.

    Best effort: :meth:`write` never fails the upload. When the cache has no room or the disk
    fails, the copy is abandoned (its bytes released) and the job reads the store instead.
    """

    def __init__(self, cache: StagingCache, directory: Path, name: str, origin: str):
        self._cache = cache
        self.directory = directory
        self.path = directory / name
        #: The upload's file name as given (``name`` is its clean form): which file this is.
        self.origin = origin
        self.reserved = 0
        self.abandoned = False
        #: Writes reserved and not yet settled (a thread may still be writing).
        self.writing = 0

    async def write(self, offset: int, data: bytes) -> None:
        """Put ``data`` at ``offset`` (parts may arrive in any order, also concurrently)."""
        if self.reserve(len(data)):
            self.settle(await trio.to_thread.run_sync(self.pwrite_now, offset, data))

    def reserve(self, size: int) -> bool:
        """Room for ``size`` more bytes; ``False``: nothing to write (abandoned, or no room).

        Then :meth:`pwrite_now` (in a thread) and :meth:`settle` with what it returned.
        """
        if self.abandoned or not size:
            return False
        if not self._cache.reserve_now(size):
            log.info("upload not kept locally: the staging cache is full")
            self.discard()
            return False
        self.reserved += size
        self.writing += 1
        return True

    def settle(self, error: OSError | None) -> None:
        """End a reserved write; abandon the copy if it failed."""
        self.writing -= 1
        if error is not None:
            if not self.abandoned:
                log.warning("upload not kept locally: %s", error.strerror)
            self.discard()

    def pwrite_now(self, offset: int, data: bytes) -> OSError | None:
        """Write ``data`` at ``offset`` (blocking, thread-safe); the error instead of raising."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            return exc
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError as exc:
            return exc
        finally:
            os.close(fd)
        return None

    def discard(self) -> None:
        """Remove the copy and release its bytes (synchronous: also runs when cancelled)."""
        if self.abandoned:
            return
        self.abandoned = True
        try:  # the copy is the one file in its own directory: no tree walk needed
            os.unlink(self.path)
            unlinked = True
        except FileNotFoundError:
            unlinked = True  # nothing was written
        except OSError:
            unlinked = False
        if unlinked and not self.writing:
            self._cache.recycle(self.directory)
        else:  # a part still being written must not land in a reused directory
            shutil.rmtree(self.directory, ignore_errors=True)
        self._cache.release(self.reserved, files=1)
        self.reserved = 0


class StagingCache:
    """Byte-bounded staging of object copies.

    Args:
        root: the shared cache directory.
        max_bytes: bytes this instance may have staged at once.
        wait: seconds a request waits for space before it gets 503.
    """

    def __init__(self, root: Path, max_bytes: int, wait: float):
        self.root = root
        self.max_bytes = max_bytes
        self.wait = wait
        self.used = 0
        self.staged = 0
        self._freed = trio.Event()
        self._dir: Path | None = None
        self._lock: IO[bytes] | None = None
        #: Finished local copies by media id, oldest first, with the time they were kept.
        self._kept: OrderedDict[str, tuple[LocalCopy, float]] = OrderedDict()
        self.keep_seconds = KEEP_SECONDS
        self._spare: list[Path] = []

    def open(self) -> None:
        """Create this instance's directory (synchronous: call it from a thread)."""
        self.root.mkdir(parents=True, exist_ok=True)
        _remove_dead_instances(self.root)
        own = Path(tempfile.mkdtemp(prefix=INSTANCE_PREFIX, dir=self.root))
        lock = open(own / LOCK_NAME, "a+b")  # noqa: SIM115 - held for the instance's lifetime
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._dir, self._lock = own, lock

    def close(self) -> None:
        self._kept.clear()
        self._spare.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def recycle(self, directory: Path) -> None:
        """Keep an emptied copy directory for a later copy (or remove it)."""
        if len(self._spare) < SPARE_DIRS and self._dir is not None:
            self._spare.append(directory)
            return
        with contextlib.suppress(OSError):
            os.rmdir(directory)

    def _new_directory(self) -> Path:
        if self._dir is None:
            raise RuntimeError("the staging cache is not open")
        if self._spare:
            return self._spare.pop()
        work = self._dir / secrets.token_hex(8)
        os.mkdir(work)
        return work

    def _evict_kept(self, size: int) -> None:
        """Drop expired local copies, then the oldest ones until ``size`` more bytes fit."""
        limit = time.monotonic() - self.keep_seconds
        while self._kept:
            media_id, (copy, kept_at) = next(iter(self._kept.items()))
            if kept_at > limit and self.used + size <= self.max_bytes:
                return
            del self._kept[media_id]
            copy.discard()

    def reserve_now(self, size: int) -> bool:
        """Reserve ``size`` bytes without waiting (dropping kept copies for room if that helps)."""
        kept = sum(copy.reserved for copy, _ in self._kept.values())
        if self.used - kept + size > self.max_bytes:
            self._evict_kept(0)
            return False
        self._evict_kept(size)
        if self.used + size > self.max_bytes:
            return False
        self.used += size
        return True

    def release(self, size: int, files: int = 0) -> None:
        self.used -= size
        self.staged -= files
        self._freed.set()
        self._freed = trio.Event()

    def begin_copy(self, name: str, origin: str) -> LocalCopy:
        """A new, empty local copy of an upload stored as ``name``, given as ``origin``."""
        copy = LocalCopy(self, self._new_directory(), name, origin)
        self.staged += 1
        return copy

    def keep(self, media_id: str, copy: LocalCopy) -> None:
        """Hold a finished local copy until :meth:`take` (or expiry, or a need for room)."""
        self._evict_kept(0)
        if not copy.abandoned:
            self._kept[media_id] = (copy, time.monotonic())

    def take(self, media_id: str) -> LocalCopy | None:
        """The kept local copy of ``media_id``, now the caller's to :meth:`LocalCopy.discard`."""
        self._evict_kept(0)
        kept = self._kept.pop(media_id, None)
        return None if kept is None else kept[0]

    def drop(self, media_id: str) -> None:
        """Discard the kept local copy of ``media_id``, if any (its package is gone)."""
        kept = self._kept.pop(media_id, None)
        if kept is not None:
            kept[0].discard()

    @asynccontextmanager
    async def slot(self, size: int) -> AsyncIterator[Path]:
        """Reserve ``size`` bytes and a fresh directory; both are released on exit.

        Kept local copies make room first; then the slot waits for jobs to finish.

        Raises:
            InsufficientStorage: ``size`` exceeds the whole cache.
            ServiceUnavailable: no space became free within ``wait`` seconds.
        """
        if self._dir is None:
            raise RuntimeError("the staging cache is not open")
        if size > self.max_bytes:
            log.error("a file of %d bytes exceeds cache_max_bytes", size)
            raise InsufficientStorage("The file is too large to be processed.")
        with trio.move_on_after(self.wait):
            while True:
                self._evict_kept(size)
                if self.used + size <= self.max_bytes:
                    break
                await self._freed.wait()
        if self.used + size > self.max_bytes:
            raise ServiceUnavailable()
        self.used += size
        self.staged += 1
        try:
            work = self._new_directory()
            try:
                yield work
            finally:
                shutil.rmtree(work, ignore_errors=True)  # synchronous: also runs when cancelled
        finally:
            self.release(size, files=1)
