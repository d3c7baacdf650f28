"""Upload observers: a plugin sees every byte of an upload while it streams into storage.

A route passes an observer to :func:`kernel.receive_upload`; the kernel feeds it each chunk in
a worker thread, concurrently with the storage write, one chunk at a time and in order. The
channel between them holds one chunk, so a slow observer slows the upload down (bounded memory)
and never falls far behind: when the last byte is stored, the observer has seen all but the
last chunk or two. An observer's exception fails the upload like a storage error would (the
partial package is removed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import trio

from kernel.storage import Storage, UploadMeta


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
            async for chunk in receive:
                await trio.to_thread.run_sync(observer.update, chunk)

    async def teed() -> AsyncIterator[bytes]:
        with send:
            async for chunk in chunks:
                await send.send(chunk)
                yield chunk

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
