"""Streaming a body into one object: a single PUT when small, else a pipelined multipart upload.

At most ``concurrency`` parts are in flight while the next one fills, so an upload holds
``(concurrency + 1) x part_size`` bytes at most, whatever its size. On any failure or
cancellation the multipart upload is aborted (the caller removes the other objects). With a
:class:`~plugins.s3.cache.LocalCopy`, each part is also written to local disk on its way.

The object's first request is the caller's ``create`` (blocking): a small upload's whole body,
or an empty placeholder that a multipart upload then replaces, so the caller decides how the
key is written (:mod:`plugins.s3.create`: only if absent). ``finish`` runs right after the
object is complete, in the same thread hop: a small upload is one hop (object and meta
record), however many requests it makes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import trio

from plugins.s3.ops import ObjectMissing, S3Ops, store_error

if TYPE_CHECKING:
    from plugins.s3.cache import LocalCopy

log = logging.getLogger("iscc_web.storage.s3")

#: Seconds a cleanup may take after a failure or cancellation.
CLEANUP_TIMEOUT = 15.0


def single_leaf(error: BaseException) -> BaseException:
    """The one exception inside (nested) groups that hold a single non-Cancelled leaf."""
    while isinstance(error, BaseExceptionGroup):
        leaves = [e for e in error.exceptions if not isinstance(e, trio.Cancelled)]
        if len(leaves) != 1:
            return error
        error = leaves[0]
    return error


class ObjectUpload:
    """Writes one object from a stream of chunks.

    Args:
        ops: the bucket's operations.
        key: the object key.
        part_size: bytes per part (and the single-PUT threshold).
        concurrency: parts uploaded at once.
        content_type: stored as the object's ``Content-Type``.
        copy: where the bytes are also written locally, or ``None``.
        create: blocking; ``create(body, content_type)`` writes the object in one PUT (for a
            multipart upload: an empty placeholder first); its errors end the upload.
        metadata: user metadata of a multipart upload's object.
        finish: blocking; runs once the object is complete.
    """

    def __init__(self, ops: S3Ops, key: str, *, part_size: int, concurrency: int,
                 content_type: str = "application/octet-stream",
                 copy: LocalCopy | None = None,
                 create: Callable[[bytes, str], None] | None = None,
                 metadata: dict[str, str] | None = None,
                 finish: Callable[[], None] = lambda: None):
        self.ops = ops
        self.key = key
        self.part_size = part_size
        self.concurrency = concurrency
        self.content_type = content_type or "application/octet-stream"
        self.copy = copy
        self.create = create or self._put
        self.metadata = metadata or {}
        self.finish = finish
        self.upload_id: str | None = None
        self._etags: dict[int, str] = {}

    async def write(self, chunks: AsyncIterator[bytes]) -> int:
        """Consume ``chunks`` into the object and return its size.

        Raises:
            Whatever ``chunks`` raises, or the store's error (503/507); the multipart
            upload is aborted first.
        """
        try:
            async with trio.open_nursery() as nursery:
                return await self._pump(chunks, nursery)
        except BaseExceptionGroup as group:
            leaf = single_leaf(group)
            await self.abort()
            raise leaf from None
        except BaseException:
            await self.abort()
            raise

    async def _pump(self, chunks: AsyncIterator[bytes], nursery: trio.Nursery) -> int:
        slots = trio.Semaphore(self.concurrency)
        buffer = bytearray()
        size = 0
        part_number = 0
        async for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            while len(buffer) >= self.part_size:
                part = bytes(buffer[:self.part_size])
                del buffer[:self.part_size]
                if self.upload_id is None:
                    await self._begin()
                part_number += 1
                await slots.acquire()
                nursery.start_soon(self._part, part_number, part, slots)
        if self.upload_id is None:
            await self._single(bytes(buffer))
            return size
        if buffer or part_number == 0:
            part_number += 1
            await slots.acquire()
            nursery.start_soon(self._part, part_number, bytes(buffer), slots)
        buffer = bytearray()
        for _ in range(self.concurrency):  # wait until every part is stored
            await slots.acquire()
        await self._complete()
        return size

    def _put(self, body: bytes, content_type: str) -> None:
        self.ops.put_now(self.key, body, content_type=content_type)

    async def _single(self, body: bytes) -> None:
        """The local copy, the object in one PUT and ``finish``: one thread hop."""
        copy = self.copy if self.copy is not None and self.copy.reserve(len(body)) else None

        def store() -> OSError | None:
            copied = copy.pwrite_now(0, body) if copy is not None else None
            self.create(body, self.content_type)
            self.finish()
            return copied

        error = await self.ops.in_thread(store)
        if copy is not None:
            copy.settle(error)

    async def _begin(self) -> None:
        def begin() -> Any:
            self.create(b"", self.content_type)  # the placeholder this upload replaces
            return self.ops.call_now("create_multipart_upload", Key=self.key,
                                     ContentType=self.content_type, Metadata=self.metadata)

        self.upload_id = (await self.ops.in_thread(begin))["UploadId"]

    async def _part(self, number: int, data: bytes, slots: trio.Semaphore) -> None:
        try:
            if self.copy is not None:
                await self.copy.write((number - 1) * self.part_size, data)
            answer = await self.ops.call("upload_part", Key=self.key, UploadId=self.upload_id,
                                         PartNumber=number, Body=data)
            self._etags[number] = answer["ETag"]
        except ObjectMissing as exc:  # the upload vanished (aborted elsewhere)
            raise store_error(exc) from None
        finally:
            slots.release()

    async def _complete(self) -> None:
        parts = [{"PartNumber": n, "ETag": self._etags[n]} for n in sorted(self._etags)]

        def complete() -> None:
            try:
                self.ops.call_now("complete_multipart_upload", Key=self.key,
                                  UploadId=self.upload_id, MultipartUpload={"Parts": parts})
            except ObjectMissing as exc:
                raise store_error(exc) from None
            self.upload_id = None
            self.finish()

        await self.ops.in_thread(complete)

    async def abort(self) -> bool:
        """Abort the multipart upload, shielded and time-bounded; ``False`` if that failed."""
        if self.upload_id is None:
            return True
        with trio.CancelScope(shield=True), trio.move_on_after(CLEANUP_TIMEOUT):
            try:
                await self.ops.call("abort_multipart_upload", Key=self.key,
                                    UploadId=self.upload_id)
                self.upload_id = None
                return True
            except ObjectMissing:
                self.upload_id = None
                return True
            except Exception as exc:
                log.warning("could not abort a multipart upload: %s", type(exc).__name__)
        return False


async def file_chunks(path: Any, size: int) -> AsyncGenerator[bytes, None]:
    """Read a local file in ``size`` chunks, each read in a thread."""
    fh = await trio.to_thread.run_sync(open, path, "rb", 0)
    try:
        while chunk := await trio.to_thread.run_sync(fh.read, size):
            yield chunk
    finally:
        fh.close()
