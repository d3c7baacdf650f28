"""Removing packages from the bucket: the meta record first, then everything else.

Deleting the meta record first makes a package invisible at once (CONTRACT §5: only the meta
record makes a package visible), so a removal that stops half-way never leaves a package that
looks complete. A failed upload's leftovers (its objects and any multipart upload in progress)
are removed in a shielded, time-bounded cleanup; a cleanup the store refused is remembered
(:attr:`Remover.orphans`) and retried before the next upload and by the sweeper.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from plugins.s3.ops import ObjectMissing, S3Ops
from plugins.s3.upload import CLEANUP_TIMEOUT

log = logging.getLogger("iscc_web.storage.s3")


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
        #: Media ids of failed uploads whose cleanup the store refused.
        self.orphans: set[str] = set()

    async def remove(self, media_id: str) -> bool:
        """Delete every object of a package, the meta record first; whether there were any."""
        self._forget(media_id)
        ops, package = self._ops(), self._package(media_id)
        keys = [obj["Key"] for obj in await ops.list_keys(package)]
        if not keys:
            self.orphans.discard(media_id)
            return False
        meta_key = f"{package}{media_id}.meta.json"
        if meta_key in keys:
            await ops.delete_keys([meta_key])
        await ops.delete_keys([key for key in keys if key != meta_key])
        self.orphans.discard(media_id)
        return True

    async def remove_failed(self, media_id: str) -> None:
        """Abort multipart uploads left under a failed package, then remove its objects."""
        ops = self._ops()
        for upload in await ops.list_uploads(self._package(media_id)):
            try:
                await ops.call("abort_multipart_upload", Key=upload["Key"],
                               UploadId=upload["UploadId"])
            except ObjectMissing:
                continue
        await self.remove(media_id)

    async def cleanup(self, media_id: str) -> None:
        """Remove a failed package; shielded, bounded, never raising (remembered if refused)."""
        with trio.CancelScope(shield=True) as scope:
            scope.deadline = trio.current_time() + CLEANUP_TIMEOUT
            try:
                await self.remove_failed(media_id)
                return
            except Exception as exc:
                log.warning("cleanup of a failed upload deferred: %s", type(exc).__name__)
        self.orphans.add(media_id)

    async def retry_orphans(self) -> None:
        """Try the refused cleanups again (stops at the first failure: the store still fails)."""
        for media_id in sorted(self.orphans):
            try:
                await self.remove_failed(media_id)
            except Exception:
                return
