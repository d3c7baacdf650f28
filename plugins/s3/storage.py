"""The S3 storage backend: one key prefix per package, shared safely by many instances.

Layout (CONTRACT §5 on keys): ``<prefix><media_id>/<file name>``,
``<prefix><media_id>/<media_id>.meta.json`` and ``<prefix><media_id>/<media_id>.iscc.json``
(packages of earlier versions also hold an empty ``<media_id>.claim``). The file is written
first, the meta record last, both only if absent (``If-None-Match: *``), so two instances can
never create the same id (:mod:`plugins.s3.create`), and only the meta record makes a package
visible. A small upload is one thread hop once the whole body is in (file and meta record);
whatever fails or is cancelled removes what it wrote (:mod:`plugins.s3.removal`).

An upload saved with ``keep_local`` is also written to the local staging cache while it
streams to the store, and the next ``local_file`` of it takes that copy instead of reading the
file back. A result sidecar for a package this instance created within
:data:`KNOWN_SECONDS` is written without first asking the store whether the package still
exists: the answer could be stale a moment later anyway, and a sidecar left under a package
another instance deleted meanwhile is invisible (no meta record) and swept with its prefix.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from kernel import (
    MEDIA_ID,
    HttpError,
    NotFound,
    ServiceUnavailable,
    UploadMeta,
    decode_secret,
    encode_secret,
)
from plugins.s3.cache import StagingCache, default_cache_dir
from plugins.s3.create import create_package, probe_conditional_writes
from plugins.s3.listing import package_sizes
from plugins.s3.ops import ObjectMissing, PreconditionFailed, S3Ops, make_client
from plugins.s3.removal import Remover
from plugins.s3.settings import S3Settings
from plugins.s3.upload import ObjectUpload, file_chunks

log = logging.getLogger("iscc_web.storage.s3")

#: Seconds after creating a package during which this instance takes it to exist (see above).
KNOWN_SECONDS = 300.0


class S3Storage:
    """Packages in an S3 bucket (see the module docstring for the layout and guarantees)."""

    def __init__(self, settings: S3Settings):
        self.settings = settings
        self.prefix = settings.prefix
        root = Path(settings.cache_dir) if settings.cache_dir else default_cache_dir()
        self.cache = StagingCache(root, settings.cache_max_bytes, settings.cache_wait)
        self.removal = Remover(lambda: self.ops, self._package, self._forget)
        self._owners: dict[str, str] = {}  # media id -> owner, for usage()
        self._created: dict[str, float] = {}  # media id -> when this instance created it
        self._ops: S3Ops | None = None

    @property
    def ops(self) -> S3Ops:
        if self._ops is None:
            raise RuntimeError("the S3 storage is not started")
        return self._ops

    # --- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> S3Storage:
        client, direct = await trio.to_thread.run_sync(make_client, self.settings)
        self._ops = S3Ops(client, self.settings.bucket, direct)
        await trio.to_thread.run_sync(self.cache.open)
        try:
            await self.ops.call("head_bucket")
        except ObjectMissing:
            if not self.settings.create_bucket:
                log.error("bucket %r does not exist (set create_bucket)", self.settings.bucket)
                return self
            await self.ops.call("create_bucket")
        except ServiceUnavailable:
            log.warning("object store not reachable at start-up; requests will retry it")
            return self
        await self._check_conditional_writes()
        return self

    async def _check_conditional_writes(self) -> None:
        """Warn when the store ignores ``If-None-Match: *`` (new media ids rely on it)."""
        if not await probe_conditional_writes(self.ops, f"{self.prefix}.probe-"):
            log.warning("the object store ignores If-None-Match: media ids are not "
                        "protected against collisions between instances")

    async def __aexit__(self, *exc_info: object) -> None:
        await trio.to_thread.run_sync(self.cache.close)
        if self._ops is not None:
            await trio.to_thread.run_sync(self._ops.close)
            self._ops = None

    # --- keys ---------------------------------------------------------------------------

    def _package(self, media_id: str) -> str:
        if not MEDIA_ID.fullmatch(media_id):
            raise NotFound("File metadata not found")
        return f"{self.prefix}{media_id}/"

    def _key(self, media_id: str, name: str) -> str:
        return self._package(media_id) + name

    def _file_key(self, meta: UploadMeta) -> str:
        return self._key(meta.media_id, meta.clean_file_name)

    # --- creating packages --------------------------------------------------------------

    async def _create(self, meta: UploadMeta, fill: Callable[[ObjectUpload], Awaitable[int]],
                      keep_local: bool = False) -> int:
        """Let ``fill`` write the file, then the meta record; clean up on failure."""
        if self.removal.orphans:
            await self.removal.retry_orphans()
        copy = self.cache.begin_copy(meta.clean_file_name, meta.file_name) if keep_local else None
        try:
            size = await create_package(self.ops, self._package(meta.media_id), meta, fill,
                                        part_size=self.settings.part_size,
                                        concurrency=self.settings.upload_concurrency,
                                        copy=copy, remover=self.removal)
        except BaseException:
            if copy is not None:
                copy.discard()
            raise
        self._remember_created(meta.media_id)
        if copy is not None:
            self.cache.keep(meta.media_id, copy)
        return size

    def _remember_created(self, media_id: str) -> None:
        now = time.monotonic()
        self._created[media_id] = now
        while True:  # forget the oldest entries once they are out of the window
            oldest, at = next(iter(self._created.items()))
            if now - at <= KNOWN_SECONDS:
                return
            del self._created[oldest]

    def _forget(self, media_id: str) -> None:
        self._created.pop(media_id, None)
        self.cache.drop(media_id)

    async def save_upload(self, meta: UploadMeta, chunks: AsyncIterator[bytes], *,
                          keep_local: bool = False) -> int:
        return await self._create(meta, lambda upload: upload.write(chunks), keep_local)

    async def save_file(self, meta: UploadMeta, source: Path) -> int:
        async def fill(upload: ObjectUpload) -> int:
            async with aclosing(file_chunks(source, self.settings.part_size)) as chunks:
                return await upload.write(chunks)

        try:
            return await self._create(meta, fill)
        finally:
            # consumed either way; sync so a cancelled request cleans up too
            Path(source).unlink(missing_ok=True)  # noqa: ASYNC240

    # --- reading ------------------------------------------------------------------------

    async def load_meta(self, media_id: str) -> UploadMeta:
        try:
            data = await self.ops.get(self._key(media_id, f"{media_id}.meta.json"))
            return UploadMeta.from_json(data)
        except (ObjectMissing, ValueError, TypeError):
            raise NotFound("File metadata not found") from None

    async def file_size(self, meta: UploadMeta) -> int:
        try:
            return await self.ops.size(self._file_key(meta))
        except ObjectMissing:
            raise NotFound("File not found") from None

    async def read_file(self, meta: UploadMeta,
                        chunk_size: int) -> AsyncGenerator[bytes, None]:
        try:
            answer = await self.ops.call("get_object", Key=self._file_key(meta))
        except ObjectMissing:
            raise NotFound("File not found") from None
        body = answer["Body"]
        try:
            while chunk := await self.ops.read(body, chunk_size):
                yield chunk
        finally:
            body.close()

    @asynccontextmanager
    async def local_file(self, meta: UploadMeta) -> AsyncIterator[Path]:
        copy = self.cache.take(meta.media_id)
        if copy is not None and copy.origin == meta.file_name:
            try:
                yield copy.path
            finally:
                copy.discard()
            return
        if copy is not None:
            copy.discard()
        size = await self.file_size(meta)
        async with self.cache.slot(size) as work:
            target = work / meta.clean_file_name
            async with (aclosing(self.read_file(meta, self.settings.part_size)) as chunks,
                        await trio.open_file(target, "xb", buffering=0) as fh):
                async for chunk in chunks:
                    await fh.write(chunk)
            yield target

    async def put_sidecar(self, media_id: str, suffix: str, data: bytes) -> None:
        key = self._key(media_id, f"{media_id}.{suffix}")
        created = self._created.get(media_id)
        if created is not None and time.monotonic() - created <= KNOWN_SECONDS:
            await self.ops.put(key, data)
            return
        meta_key = self._key(media_id, f"{media_id}.meta.json")

        def checked_put() -> None:  # one thread hop for both requests
            self.ops.size_now(meta_key)
            self.ops.put_now(key, data)

        try:
            await self.ops.in_thread(checked_put)
        except ObjectMissing:
            raise NotFound("File metadata not found") from None

    async def get_sidecar(self, media_id: str, suffix: str) -> bytes | None:
        if not MEDIA_ID.fullmatch(media_id):
            return None
        try:
            return await self.ops.get(self._key(media_id, f"{media_id}.{suffix}"))
        except ObjectMissing:
            return None

    # --- removing -----------------------------------------------------------------------

    async def delete(self, media_id: str) -> bool:
        return await self.removal.remove(media_id)

    async def sweep(self, max_age: float) -> int:
        return await self.removal.sweep(self.prefix, max_age)

    async def ready(self) -> bool:
        """The bucket answers (one HEAD request)."""
        try:
            await self.ops.call("head_bucket")
        except (ObjectMissing, HttpError):
            return False
        return True

    async def shared_secret(self, name: str) -> bytes:
        key = f"{self.prefix}.{name}"
        # the first instance to write wins; every other one reads what it wrote
        with contextlib.suppress(PreconditionFailed):
            await self.ops.put(key, encode_secret(), if_none_match=True)
        return decode_secret(await self.ops.get(key))

    async def usage(self) -> dict[str, tuple[str, int]]:
        sizes, visible = package_sizes(await self.ops.list_keys(self.prefix), self.prefix)
        owners = {}
        for media_id in sorted(visible):
            owner = self._owners.get(media_id)
            if owner is None:  # read once per package and instance, then remembered
                try:
                    owner = (await self.load_meta(media_id)).user
                except NotFound:
                    continue
            owners[media_id] = owner
        self._owners = owners
        return {media_id: (owner, sizes[media_id]) for media_id, owner in owners.items()}

    async def statistics(self) -> dict[str, Any]:
        objects = await self.ops.list_keys(self.prefix)
        return {
            "backend": "s3",
            "packages": len(package_sizes(objects, self.prefix)[1]),
            "bytes": sum(int(obj.get("Size", 0)) for obj in objects),
            "objects": len(objects),
            "staged_files": self.cache.staged,
            "staged_bytes": self.cache.used,
            "pending_cleanups": len(self.removal.orphans),
        }


