"""The default storage backend: one directory per media id under ``media_path``."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import trio

from kernel import storage_fs_scan
from kernel.config import Settings
from kernel.errors import InsufficientStorage, NotFound
from kernel.hookspecs import hookimpl
from kernel.storage import MEDIA_ID, Storage, UploadMeta, decode_secret, encode_secret

log = logging.getLogger("iscc_web.storage")

#: Bytes gathered before one write (one thread hop) to disk.
WRITE_BUFFER = 256 * 1024


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:  # after a successful replace there is nothing to remove
        tmp.unlink(missing_ok=True)
        raise


class FileSystemStorage:
    """Packages as directories: ``<root>/<media_id>/{<file>, <media_id>.meta.json, …}``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    async def __aenter__(self) -> FileSystemStorage:
        await trio.to_thread.run_sync(lambda: self.root.mkdir(parents=True, exist_ok=True))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def _package(self, media_id: str) -> Path:
        if not MEDIA_ID.fullmatch(media_id):
            raise NotFound("File metadata not found")
        return self.root / media_id

    async def _write(self, fh: IO[bytes], data: bytes | bytearray) -> None:
        try:
            await trio.to_thread.run_sync(fh.write, data)
        except OSError as exc:
            log.error("storage write failed: %s", exc.strerror)
            raise InsufficientStorage() from None

    async def _in_thread(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await trio.to_thread.run_sync(fn, *args)
        except OSError as exc:
            log.error("cannot %s: %s", what, exc.strerror)
            raise InsufficientStorage() from None

    def _publish_meta(self, meta: UploadMeta) -> None:
        _write_atomic(self._package(meta.media_id) / f"{meta.media_id}.meta.json", meta.to_json())

    @staticmethod
    def _open_package(target: Path, head: bytes | bytearray) -> IO[bytes]:
        target.parent.mkdir(parents=True)
        fh = open(target, "xb", 0)  # noqa: SIM115 - closed by the caller
        try:
            fh.write(head)
        except BaseException:
            fh.close()
            raise
        return fh

    def _write_small_package(self, meta: UploadMeta, target: Path, data: bytes | bytearray
                             ) -> None:
        with self._open_package(target, data):
            pass
        self._publish_meta(meta)

    async def save_upload(self, meta: UploadMeta, chunks: AsyncIterator[bytes], *,
                          keep_local: bool = False) -> int:
        target = self._package(meta.media_id) / meta.clean_file_name
        iterator = chunks.__aiter__()
        head = bytearray()
        ended = False
        while len(head) < WRITE_BUFFER:  # nothing touches the disk before the first buffer
            try:
                head += await iterator.__anext__()
            except StopAsyncIteration:
                ended = True
                break
        try:
            if ended:  # a small upload: the whole package in one thread hop
                await self._in_thread("store upload", self._write_small_package, meta, target,
                                      head)
                return len(head)
            fh = await self._in_thread("store upload", self._open_package, target, head)
            size = len(head)
            try:
                async for chunk in iterator:
                    size += len(chunk)
                    await self._write(fh, chunk)
            finally:
                fh.close()
            await self._in_thread("write meta", self._publish_meta, meta)
            return size
        except BaseException:
            # synchronous on purpose: also runs when cancelled
            storage_fs_scan.remove_tree(target.parent)
            raise

    async def save_file(self, meta: UploadMeta, source: Path) -> int:
        target = self._package(meta.media_id) / meta.clean_file_name

        def move_in() -> int:
            target.parent.mkdir(parents=True)
            shutil.move(source, target)
            self._publish_meta(meta)
            return target.stat().st_size

        try:
            return await self._in_thread("store file", move_in)
        except BaseException:
            storage_fs_scan.remove_tree(target.parent)
            raise

    async def load_meta(self, media_id: str) -> UploadMeta:
        path = self._package(media_id) / f"{media_id}.meta.json"
        try:
            data = await trio.Path(path).read_bytes()
            return UploadMeta.from_json(data)
        except (OSError, ValueError, TypeError):
            raise NotFound("File metadata not found") from None

    def _file(self, meta: UploadMeta) -> Path:
        return self._package(meta.media_id) / meta.clean_file_name

    async def file_size(self, meta: UploadMeta) -> int:
        try:
            return (await trio.Path(self._file(meta)).stat()).st_size
        except OSError:
            raise NotFound("File not found") from None

    async def read_file(self, meta: UploadMeta, chunk_size: int) -> AsyncIterator[bytes]:
        try:
            fh = await trio.to_thread.run_sync(open, self._file(meta), "rb", 0)
        except OSError:
            raise NotFound("File not found") from None
        try:
            while chunk := await trio.to_thread.run_sync(fh.read, chunk_size):
                yield chunk
        finally:
            fh.close()

    @asynccontextmanager
    async def local_file(self, meta: UploadMeta) -> AsyncIterator[Path]:
        # the file is checked where it is used (Job.add_input), saving a thread hop here
        yield self._file(meta)

    async def put_sidecar(self, media_id: str, suffix: str, data: bytes) -> None:
        path = self._package(media_id) / f"{media_id}.{suffix}"
        try:
            await trio.to_thread.run_sync(_write_atomic, path, data)
        except FileNotFoundError:
            raise NotFound("File metadata not found") from None
        except OSError as exc:
            log.error("cannot write %s: %s", suffix, exc.strerror)
            raise InsufficientStorage() from None

    async def get_sidecar(self, media_id: str, suffix: str) -> bytes | None:
        try:
            return await trio.Path(self._package(media_id) / f"{media_id}.{suffix}").read_bytes()
        except (OSError, NotFound):
            return None

    async def delete(self, media_id: str) -> bool:
        package = self._package(media_id)
        trash = self.root / f"{storage_fs_scan.TRASH_PREFIX}{media_id}-{secrets.token_hex(4)}"
        try:
            await trio.to_thread.run_sync(os.rename, package, trash)
        except FileNotFoundError:
            return False
        await trio.to_thread.run_sync(storage_fs_scan.remove_tree, trash)
        return True

    async def sweep(self, max_age: float) -> int:
        return await trio.to_thread.run_sync(storage_fs_scan.sweep, self.root, max_age)

    async def usage(self) -> dict[str, tuple[str, int]]:
        return await trio.to_thread.run_sync(storage_fs_scan.usage, self.root)

    async def statistics(self) -> dict[str, Any]:
        return await trio.to_thread.run_sync(storage_fs_scan.statistics, self.root)

    async def ready(self) -> bool:
        """The root is a directory this process can create packages in."""
        root = self.root
        return await trio.to_thread.run_sync(
            lambda: root.is_dir() and os.access(root, os.W_OK | os.X_OK))


    def _shared_secret_sync(self, name: str) -> bytes:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f".{name}"
        if not path.exists():
            tmp = self.root / f".{name}.{secrets.token_hex(4)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(encode_secret())
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, path)  # atomic, and never replaces a secret another wrote
            finally:
                tmp.unlink(missing_ok=True)
        return decode_secret(path.read_bytes())

    async def shared_secret(self, name: str) -> bytes:
        return await trio.to_thread.run_sync(self._shared_secret_sync, name)


def _create_fs(settings: Settings) -> Storage:
    return FileSystemStorage(Path(settings.kernel.media_path))


@hookimpl(trylast=True)
def register_storage() -> Mapping[str, Callable[[Settings], Storage]]:
    return {"fs": _create_fs}
