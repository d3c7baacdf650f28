"""Removing packages from the bucket: the meta record first, then everything else.

Deleting the meta record first makes a package invisible at once (CONTRACT §5: only the meta
record makes a package visible), so a removal that stops half-way never leaves a package that
looks complete. A failed creation removes only what it wrote itself (:class:`Leftover`: another
instance may own the media id), in a shielded, time-bounded cleanup; a cleanup the store
refused is remembered (:attr:`Remover.orphans`) and retried before the next upload and by the
sweeper, which also removes expired packages and aborts stale multipart uploads.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

import attrs
import trio

from kernel import ServiceUnavailable
from plugins.s3.listing import expired_packages, stale_uploads
from plugins.s3.ops import ObjectMissing, S3Ops
from plugins.s3.upload import CLEANUP_TIMEOUT

log = logging.getLogger("iscc_web.storage.s3")

#: The user metadata name of the token that tells which creation wrote an object.
TOKEN = "upload"


@attrs.define
class Leftover:
    """What one package creation wrote: keys in the order written, each ``True`` when the
    write surely succeeded, ``False`` when it failed in a way that may have written it (the
    object's :data:`TOKEN` then says whether it is this creation's)."""

    media_id: str
    token: str
    file_key: str
    keys: dict[str, bool] = attrs.field(factory=dict)


class Remover:
    """Removes packages of one key prefix.

    Args:
        ops: the bucket's operations (called when needed: the store may start later).
        package: a media id's key prefix, ``<prefix><media_id>/``.
        forget: drops what this instance remembers of a media id (called first).
    """

    def __init__(self, ops: Callable[[], S3Ops], package: Callable[[str], str],
                 forget: Callable[[str], None]):
        self._ops = ops
        self._package = package
        self._forget = forget
        #: Failed creations whose cleanup the store refused, by media id.
        self.orphans: dict[str, Leftover] = {}

    async def remove(self, media_id: str) -> bool:
        """Delete every object of a package, the meta record first; whether there were any."""
        self._forget(media_id)
        ops, package = self._ops(), self._package(media_id)
        keys = [obj["Key"] for obj in await ops.list_keys(package)]
        self.orphans.pop(media_id, None)
        if not keys:
            return False
        meta_key = f"{package}{media_id}.meta.json"
        if meta_key in keys:
            await ops.delete_keys([meta_key])
        await ops.delete_keys([key for key in keys if key != meta_key])
        return True

    async def remove_leftover(self, leftover: Leftover) -> None:
        """Delete what a failed creation wrote, last written first (the meta record before
        the file), each key only if it is this creation's; abort its multipart uploads."""
        ops = self._ops()
        for key, sure in reversed(list(leftover.keys.items())):
            if not sure:
                try:
                    owner = (await ops.metadata(key)).get(TOKEN)
                except ObjectMissing:
                    owner = None
                if owner != leftover.token:
                    del leftover.keys[key]  # never written, or another creation's
                    continue
            if key == leftover.file_key:  # a placeholder may have an upload in progress
                for upload in await ops.list_uploads(key):
                    if upload["Key"] == key:
                        with contextlib.suppress(ObjectMissing):
                            await ops.call("abort_multipart_upload", Key=key,
                                           UploadId=upload["UploadId"])
            await ops.delete_keys([key])
            del leftover.keys[key]
        self.orphans.pop(leftover.media_id, None)

    async def cleanup(self, leftover: Leftover) -> None:
        """:meth:`remove_leftover`, shielded, bounded, never raising (remembered if refused)."""
        if not leftover.keys:
            return
        with trio.CancelScope(shield=True) as scope:
            scope.deadline = trio.current_time() + CLEANUP_TIMEOUT
            try:
                await self.remove_leftover(leftover)
                return
            except Exception as exc:
                log.warning("cleanup of a failed upload deferred: %s", type(exc).__name__)
        self.orphans[leftover.media_id] = leftover

    async def retry_orphans(self) -> None:
        """Try the refused cleanups again (stops at the first failure: the store still fails)."""
        for media_id in sorted(self.orphans):
            try:
                await self.remove_leftover(self.orphans[media_id])
            except Exception:
                return

    async def sweep(self, prefix: str, max_age: float) -> int:
        """Retry refused cleanups, remove the packages under ``prefix`` older than ``max_age``
        seconds and abort older multipart uploads; the number of packages removed."""
        await self.retry_orphans()
        ops, now = self._ops(), time.time()
        deleted = 0
        for media_id in expired_packages(await ops.list_keys(prefix), prefix, now, max_age):
            try:
                if await self.remove(media_id):
                    deleted += 1
            except Exception as exc:  # another instance may be sweeping it right now
                log.warning("sweeper could not remove a package: %s", type(exc).__name__)
        for key, upload_id in stale_uploads(await ops.list_uploads(prefix), now, max_age):
            try:
                await ops.call("abort_multipart_upload", Key=key, UploadId=upload_id)
            except (ObjectMissing, ServiceUnavailable):
                continue
        return deleted
