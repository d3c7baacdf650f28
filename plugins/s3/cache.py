"""A bounded local staging area for files that worker processes must read from disk.

Each instance owns one directory under ``cache_dir`` and holds an exclusive ``flock`` on a
lock file inside it while it runs; at start-up, directories whose lock can be taken belong
to instances that died and are removed. Several instances may share one ``cache_dir``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import trio

from kernel import InsufficientStorage, ServiceUnavailable

log = logging.getLogger("iscc_web.storage.s3")

LOCK_NAME = ".lock"
INSTANCE_PREFIX = "instance-"


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

    def open(self) -> None:
        """Create this instance's directory (synchronous: call it from a thread)."""
        self.root.mkdir(parents=True, exist_ok=True)
        _remove_dead_instances(self.root)
        own = Path(tempfile.mkdtemp(prefix=INSTANCE_PREFIX, dir=self.root))
        lock = open(own / LOCK_NAME, "a+b")  # noqa: SIM115 - held for the instance's lifetime
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._dir, self._lock = own, lock

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @asynccontextmanager
    async def slot(self, size: int) -> AsyncIterator[Path]:
        """Reserve ``size`` bytes and a fresh directory; both are released on exit.

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
            while self.used + size > self.max_bytes:
                await self._freed.wait()
        if self.used + size > self.max_bytes:
            raise ServiceUnavailable()
        self.used += size
        self.staged += 1
        work = self._dir / secrets.token_hex(8)
        try:
            os.mkdir(work)
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)  # synchronous: also runs when cancelled
            self.used -= size
            self.staged -= 1
            self._freed.set()
            self._freed = trio.Event()
