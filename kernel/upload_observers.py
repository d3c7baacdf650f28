"""Upload observers: a plugin sees every byte of an upload while it streams into storage.

A route passes an observer to :func:`kernel.receive_upload`; the kernel feeds it the upload in
order, in batches of :data:`OBSERVE_BATCH` bytes, each in a worker thread, concurrently with the
storage write. The channel between them holds one batch, so a slow observer slows the upload
down (bounded memory) and never falls far behind: when the last byte is stored, the observer
has all but the last batch or two left. An upload that ends before its first batch is full,
and is at most :data:`OBSERVE_INLINE` bytes, is observed on the event loop in one call: that
costs less than the thread hop would. An observer's exception fails the upload like a storage
error would (the partial package is removed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import trio

from kernel.storage import Storage, UploadMeta

#: Bytes of upload gathered before the observer sees them, in one thread hop.
OBSERVE_BATCH = 256 * 1024
#: A whole upload this small is observed without a thread: hashing 53 kB takes ~40 µs of CPU,
#: a thread hop ~80 µs on a small VM.
OBSERVE_INLINE = 64 * 1024


class UploadObserver(Protocol):
    """Anything with ``update``; what it computes is its own business (hashes, sniffing)."""

    def update(self, chunk: bytes) -> None:
        """Take the next chunk of the upload; runs in a worker thread, never two at once."""


def _single(group: BaseExceptionGroup) -> BaseException:
    """The one error of a group whose other members are cancellations, else the group."""
    leaves = [e for e in group.exceptions if not isinstance(e, trio.Cancelled)]
    if len(leaves) == 1 and not isinstance(leaves[0], BaseExceptionGroup):
        return leaves[0]
    return group


async def save_observed(storage: Storage, meta: UploadMeta, chunks: AsyncIterator[bytes],
                        observer: UploadObserver, *, keep_local: bool = False) -> int:
    """``storage.save_upload(meta, chunks, keep_local=...)`` while ``observer`` sees every chunk.

    Returns once both have seen the whole upload; raises what either raised.
    """
    send, receive = trio.open_memory_channel[bytes](1)

    async def feed() -> None:
        with receive:
            async for batch in receive:
                await trio.to_thread.run_sync(observer.update, batch)

    async def teed() -> AsyncIterator[bytes]:
        parts: list[bytes] = []
        gathered = 0
        batches = 0
        with send:
            async for chunk in chunks:
                parts.append(chunk)
                gathered += len(chunk)
                if gathered >= OBSERVE_BATCH:
                    await send.send(b"".join(parts))
                    parts, gathered, batches = [], 0, batches + 1
                yield chunk
            if batches == 0 and gathered <= OBSERVE_INLINE:
                observer.update(b"".join(parts))
            elif parts:
                await send.send(b"".join(parts))

    size = 0
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(feed)
            tee = teed()
            try:
                size = await storage.save_upload(meta, tee, keep_local=keep_local)
            finally:
                await tee.aclose()  # type: ignore[attr-defined]
    except BaseExceptionGroup as group:
        raise _single(group) from None
    return size
