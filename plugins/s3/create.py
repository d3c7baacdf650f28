"""Creating a package: conditional writes decide who owns each key, no separate claim object.

Two instances can draw the same media id (CONTRACT §5: a Flake's counter starts at random in
every millisecond). So every object that another creation could also write is written with
``If-None-Match: *``, and tagged with the creation's random token (user metadata
:data:`~plugins.s3.removal.TOKEN`):

- the file first: a small upload's one PUT, or for a multipart upload an empty placeholder
  before the first part, which the completed upload replaces. A file key has one writer.
- the meta record last: exactly one creation publishes a media id. A creation that loses it
  (another one wrote a different file name under the same id) removes its own file and
  answers 503 with ``Retry-After``, like one that lost the file key.

A conditional write whose answer was lost and whose retry found the key present reads the
key's token to tell its own first attempt from another writer's. After a failure a creation
removes what it wrote and nothing else (:meth:`plugins.s3.removal.Remover.cleanup`); what a
crash leaves has no meta record, so it is invisible, and is swept with its package when that
expires. A small ``POST /iscc`` thus makes three store requests: file, meta record, result.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable

import trio

from kernel import ServiceUnavailable, UploadMeta
from plugins.s3.cache import LocalCopy
from plugins.s3.ops import ObjectMissing, PreconditionFailed, S3Ops
from plugins.s3.removal import TOKEN, Leftover, Remover
from plugins.s3.upload import ObjectUpload

log = logging.getLogger("iscc_web.storage.s3")


def collision() -> ServiceUnavailable:
    log.error("media id collision on creation; the client may retry")
    return ServiceUnavailable(retry_after=1)


class Creation:
    """The writes of one package creation (blocking; each runs in the upload's thread hop)."""

    def __init__(self, ops: S3Ops, package: str, meta: UploadMeta):
        self.ops = ops
        self.token = secrets.token_hex(16)
        self.meta_key = f"{package}{meta.media_id}.meta.json"
        self.record = meta.to_json()
        self.leftover = Leftover(meta.media_id, self.token, package + meta.clean_file_name)

    @property
    def metadata(self) -> dict[str, str]:
        return {TOKEN: self.token}

    def write_now(self, key: str, body: bytes, content_type: str) -> None:
        """Create ``key`` unless it exists; a :func:`collision` when another creation has it."""
        self.leftover.keys[key] = False  # from here on it may be ours
        try:
            self.ops.put_now(key, body, content_type=content_type, if_none_match=True,
                             metadata=self.metadata)
        except PreconditionFailed:
            if not self._is_own(key):
                del self.leftover.keys[key]
                raise collision() from None
        self.leftover.keys[key] = True

    def _is_own(self, key: str) -> bool:
        """Whether ``key`` carries this creation's token (a retried write that had landed)."""
        try:
            return self.ops.metadata_now(key).get(TOKEN) == self.token
        except ObjectMissing:
            return False

    def create_file(self, body: bytes, content_type: str) -> None:
        self.write_now(self.leftover.file_key, body, content_type)

    def publish(self) -> None:
        """Write the meta record: from now on the package exists."""
        self.write_now(self.meta_key, self.record, "application/json")


async def create_package(ops: S3Ops, package: str, meta: UploadMeta,
                         fill: Callable[[ObjectUpload], Awaitable[int]], *, part_size: int,
                         concurrency: int, copy: LocalCopy | None, remover: Remover) -> int:
    """Let ``fill`` write the file, then publish the meta record; on failure or cancellation
    remove what this creation wrote. Returns the file's size."""
    creation = Creation(ops, package, meta)
    upload = ObjectUpload(ops, creation.leftover.file_key, part_size=part_size,
                          concurrency=concurrency, content_type=meta.content_type, copy=copy,
                          create=creation.create_file, metadata=creation.metadata,
                          finish=creation.publish)
    try:
        return await fill(upload)
    except BaseException:
        await remover.cleanup(creation.leftover)
        raise


async def probe_conditional_writes(ops: S3Ops, prefix: str) -> bool:
    """Whether the store refuses a second ``If-None-Match: *`` write of one key.

    Returns ``True`` also when the probe itself failed (that is logged): only a store that
    demonstrably ignores the condition is reported.
    """
    key = f"{prefix}{secrets.token_hex(8)}"
    try:
        await ops.put(key, b"", if_none_match=True)
        try:
            await ops.put(key, b"", if_none_match=True)
            return False
        except PreconditionFailed:
            return True
    except Exception as exc:  # a probe must never stop the server
        log.warning("could not probe conditional writes: %s", type(exc).__name__)
        return True
    finally:
        with trio.CancelScope(shield=True), contextlib.suppress(Exception):
            await ops.delete_keys([key])
