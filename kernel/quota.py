"""Storage quotas: per owner (bytes, packages) and in total, with a reserve for newcomers.

:class:`QuotaStorage` wraps the storage backend, so every way a package is made (uploads,
embedding, anything a plugin stores) is metered in one place. A :class:`Ledger` knows who
holds how much: filled from the backend's :meth:`usage` when serving starts and after every
sweep, and kept current by this instance's own saves and deletes (with several instances on
one store, each one's view of the others' uploads is as fresh as its last sweep).

The total cap keeps a reserve: an owner who already holds packages may fill storage only up to
``storage_quota_bytes - owner_quota_bytes``; the last ``owner_quota_bytes`` are for owners who
hold nothing yet, so a few busy clients cannot starve everyone else.

Optionally, :class:`RateLimiter` bounds how many processing jobs (worker calls) one owner may
start per minute (429 + ``Retry-After``).
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any

import attrs
import trio

from kernel.config import KernelSettings
from kernel.errors import InsufficientStorage, TooManyRequests
from kernel.storage import UploadMeta


@attrs.frozen
class Limits:
    owner_bytes: int  # 0: no limit
    owner_packages: int
    total_bytes: int

    @classmethod
    def of(cls, kernel: KernelSettings) -> Limits:
        owner_bytes = kernel.owner_quota_bytes
        if owner_bytes is None:
            owner_bytes = 4 * kernel.max_upload_size
        return cls(owner_bytes, kernel.owner_quota_packages, kernel.storage_quota_bytes)


def _exceeded(name: str, limit: int, unit: str) -> InsufficientStorage:
    return InsufficientStorage(f"Quota exceeded: {name} ({limit} {unit}).")


@attrs.define
class Ledger:
    """Bytes and packages held per owner, plus bytes being uploaded right now."""

    limits: Limits
    packages: dict[str, tuple[str, int]] = attrs.field(factory=dict)  # id -> (owner, bytes)
    owners: dict[str, list[int]] = attrs.field(factory=dict)  # owner -> [bytes, packages]
    pending: dict[str, int] = attrs.field(factory=dict)  # owner -> bytes on the way
    stored: int = 0  # bytes of all packages

    def replace(self, usage: Mapping[str, tuple[str, int]]) -> None:
        self.packages, self.owners, self.stored = {}, {}, 0
        for media_id, (owner, size) in usage.items():
            self.record(media_id, owner, size)

    def held(self, owner: str) -> tuple[int, int]:
        """(bytes, packages) the owner holds, bytes still arriving included."""
        size, count = self.owners.get(owner, (0, 0))
        return size + self.pending.get(owner, 0), count

    def total(self) -> int:
        return self.stored + sum(self.pending.values())

    def check_new_package(self, owner: str) -> None:
        limit = self.limits.owner_packages
        if limit and self.held(owner)[1] >= limit:
            raise _exceeded("owner_quota_packages", limit, "packages per client")

    def charge(self, owner: str, size: int) -> None:
        """Count ``size`` more bytes on the way for ``owner``, or raise 507 naming the quota."""
        held, count = self.held(owner)
        limits = self.limits
        if limits.owner_bytes and held + size > limits.owner_bytes:
            raise _exceeded("owner_quota_bytes", limits.owner_bytes, "bytes per client")
        if limits.total_bytes:
            cap = limits.total_bytes
            if held or count:  # the reserve is for owners who hold nothing yet
                cap -= limits.owner_bytes
            if self.total() + size > cap:
                raise _exceeded("storage_quota_bytes", limits.total_bytes, "bytes in total")
        self.pending[owner] = self.pending.get(owner, 0) + size

    def release(self, owner: str, size: int) -> None:
        left = self.pending.get(owner, 0) - size
        if left > 0:
            self.pending[owner] = left
        else:
            self.pending.pop(owner, None)

    def record(self, media_id: str, owner: str, size: int) -> None:
        self.forget(media_id)
        self.packages[media_id] = (owner, size)
        entry = self.owners.setdefault(owner, [0, 0])
        entry[0] += size
        entry[1] += 1
        self.stored += size

    def forget(self, media_id: str) -> None:
        known = self.packages.pop(media_id, None)
        if known is None:
            return
        owner, size = known
        entry = self.owners[owner]
        entry[0] -= size
        entry[1] -= 1
        if entry[1] <= 0:
            del self.owners[owner]
        self.stored -= size


class QuotaStorage:
    """The storage backend with every new package metered against the :class:`Ledger`."""

    def __init__(self, inner: Any, ledger: Ledger):
        self._inner = inner
        self.ledger = ledger

    @property
    def backend(self) -> Any:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def refresh(self) -> None:
        """Re-read who holds what from the backend."""
        self.ledger.replace(await self._inner.usage())

    async def count_existing(self) -> None:
        """Read what the backend already holds (when serving starts)."""
        try:
            await self.refresh()
        except Exception:  # an unreachable store: counted from this instance's uploads
            self.ledger.replace({})

    async def _metered(self, owner: str, chunks: AsyncIterator[bytes],
                       counted: list[int]) -> AsyncGenerator[bytes, None]:
        async for chunk in chunks:
            self.ledger.charge(owner, len(chunk))
            counted[0] += len(chunk)
            yield chunk

    async def save_upload(self, meta: UploadMeta, chunks: AsyncIterator[bytes], *,
                          keep_local: bool = False) -> int:
        self.ledger.check_new_package(meta.user)
        counted = [0]
        try:
            # closed here, also when the backend stops reading early (a store that died)
            async with aclosing(self._metered(meta.user, chunks, counted)) as metered:
                size = await self._inner.save_upload(meta, metered, keep_local=keep_local)
            self.ledger.record(meta.media_id, meta.user, size)
            return size
        finally:
            self.ledger.release(meta.user, counted[0])

    async def save_file(self, meta: UploadMeta, source: Path) -> int:
        self.ledger.check_new_package(meta.user)
        size = (await trio.Path(source).stat()).st_size
        try:
            self.ledger.charge(meta.user, size)
        except BaseException:
            # consumed either way, as save_file promises; sync so a cancelled request cleans up
            Path(source).unlink(missing_ok=True)  # noqa: ASYNC240
            raise
        try:
            size = await self._inner.save_file(meta, source)
            self.ledger.record(meta.media_id, meta.user, size)
            return size
        finally:
            self.ledger.release(meta.user, size)

    async def delete(self, media_id: str) -> bool:
        deleted = await self._inner.delete(media_id)
        self.ledger.forget(media_id)
        return deleted

    async def sweep(self, max_age: float) -> int:
        deleted = await self._inner.sweep(max_age)
        await self.refresh()
        return deleted


class RateLimiter:
    """A token bucket per owner: ``per_minute`` processing jobs, refilled continuously."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # owner -> (tokens, at)

    def take(self, owner: str) -> None:
        """Spend one token of ``owner`` or raise 429 with the seconds until the next."""
        if not self.per_minute:
            return
        now = trio.current_time()
        rate = self.per_minute / 60
        tokens, at = self._buckets.get(owner, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - at) * rate)
        if tokens < 1:
            self._buckets[owner] = (tokens, now)
            wait = math.ceil((1 - tokens) / rate)
            raise TooManyRequests(f"Rate limit: owner_rate_limit ({self.per_minute} "
                                  "processing requests per minute).", retry_after=wait)
        self._buckets[owner] = (tokens - 1, now)
        if len(self._buckets) > 100_000:  # forget idle owners (their buckets are full again)
            full = [k for k, (t, a) in self._buckets.items() if t + (now - a) * rate >= 1]
            for key in full:
                del self._buckets[key]
