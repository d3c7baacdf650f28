"""S3: an upload saved with ``keep_local`` is processed from its local copy, never read back.

Against the session's real SeaweedFS. "No read-back" is shown by removing the file object
from the store behind the backend's back: ``local_file`` still yields the right bytes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from kernel import NotFound, UploadMeta, new_media_id
from plugins.s3.ops import EXPECT_THRESHOLD, _no_expect
from plugins.s3.settings import MIN_PART_SIZE, S3Settings
from plugins.s3.storage import S3Storage
from tests.s3_fixtures import BUCKET, SeaweedFS, s3_table


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def meta(name: str = "a.bin") -> UploadMeta:
    return UploadMeta(new_media_id(), name, "application/octet-stream", "u" * 64)


async def open_storage(server: SeaweedFS, cache: Path, **overrides: object) -> S3Storage:
    storage = S3Storage(S3Settings(**s3_table(server, cache, **overrides)))
    await storage.__aenter__()
    return storage


@pytest.fixture
async def storage(seaweedfs: SeaweedFS, tmp_path: Path) -> AsyncIterator[S3Storage]:
    s3 = await open_storage(seaweedfs, tmp_path / "cache")
    try:
        yield s3
    finally:
        await s3.__aexit__(None, None, None)


def staged_files(storage: S3Storage) -> list[str]:
    """Files in this instance's cache directory (besides its lock)."""
    assert storage.cache._dir is not None
    return sorted(str(p.relative_to(storage.cache._dir))
                  for p in storage.cache._dir.rglob("*") if p.is_file() and p.name != ".lock")


def remove_file_object(server: SeaweedFS, storage: S3Storage, item: UploadMeta) -> None:
    server.client().delete_object(Bucket=BUCKET, Key=storage._file_key(item))


async def test_small_upload_is_processed_from_its_local_copy(storage: S3Storage,
                                                             seaweedfs: SeaweedFS) -> None:
    item = meta("photo.jpg")
    assert await storage.save_upload(item, stream(b"jpeg ", b"bytes"), keep_local=True) == 10
    assert storage.cache.used == 10
    await trio.to_thread.run_sync(remove_file_object, seaweedfs, storage, item)
    async with storage.local_file(item) as path:
        assert path.name == "photo.jpg"
        assert path.read_bytes() == b"jpeg bytes"
    assert not path.exists()
    assert storage.cache.used == 0
    assert storage.cache.staged == 0
    assert staged_files(storage) == []
    # taken once: the next job reads the store (whose file object is gone here)
    with pytest.raises(NotFound):
        async with storage.local_file(item):
            pass  # pragma: no cover
    await storage.delete(item.media_id)


async def test_multipart_upload_copy_matches_the_stored_object(storage: S3Storage,
                                                               seaweedfs: SeaweedFS) -> None:
    # 2 full parts and a tail, parts uploaded concurrently, fed in odd-sized chunks
    data = os.urandom(2 * MIN_PART_SIZE + 12345)
    chunks = [data[i:i + 777_777] for i in range(0, len(data), 777_777)]
    item = meta()
    assert await storage.save_upload(item, stream(*chunks), keep_local=True) == len(data)
    stored = b"".join([c async for c in storage.read_file(item, MIN_PART_SIZE)])
    assert stored == data
    await trio.to_thread.run_sync(remove_file_object, seaweedfs, storage, item)
    async with storage.local_file(item) as path:
        assert path.read_bytes() == data
    assert storage.cache.used == 0
    await storage.delete(item.media_id)


async def test_without_keep_local_nothing_is_staged(storage: S3Storage) -> None:
    item = meta()
    await storage.save_upload(item, stream(b"0123456789"))
    assert storage.cache.used == 0
    assert staged_files(storage) == []
    async with storage.local_file(item) as path:  # read back from the store
        assert path.read_bytes() == b"0123456789"
    await storage.delete(item.media_id)


async def test_a_copy_that_does_not_fit_falls_back_to_reading_the_store(
        seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    storage = await open_storage(seaweedfs, tmp_path / "cache", cache_max_bytes=15)
    try:
        first, second = meta(), meta()
        await storage.save_upload(first, stream(b"0123456789"), keep_local=True)
        assert storage.cache.used == 10
        # the second copy needs the room: the older kept copy gives way
        await storage.save_upload(second, stream(b"abcdefghij"), keep_local=True)
        assert storage.cache.used == 10
        assert len(staged_files(storage)) == 1
        # larger than the whole cache: stored, not kept, and no kept copy is dropped for it
        big = meta()
        await storage.save_upload(big, stream(b"x" * 8, b"y" * 8), keep_local=True)
        assert storage.cache.used == 10
        assert [c async for c in storage.read_file(big, 100)] == [b"x" * 8 + b"y" * 8]
        # a job reading back from the store takes precedence over the kept copy's room
        async with storage.local_file(first) as path:
            assert path.read_bytes() == b"0123456789"
            assert staged_files(storage) == [str(path.relative_to(storage.cache._dir))]
        assert storage.cache.used == 0
    finally:
        await storage.__aexit__(None, None, None)


async def test_failed_upload_leaves_no_copy(storage: S3Storage, seaweedfs: SeaweedFS) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a" * MIN_PART_SIZE
        yield b"b" * 1000
        raise ValueError("client went away")

    with pytest.raises(ValueError, match="client went away"):
        await storage.save_upload(meta(), broken(), keep_local=True)
    assert storage.cache.used == 0
    assert storage.cache.staged == 0
    assert staged_files(storage) == []
    assert seaweedfs.keys(storage.prefix) == []
    assert seaweedfs.uploads(storage.prefix) == []


async def test_untaken_copies_expire_and_deleted_packages_drop_theirs(
        storage: S3Storage) -> None:
    gone, late = meta(), meta()
    await storage.save_upload(gone, stream(b"0123"), keep_local=True)
    await storage.delete(gone.media_id)
    assert storage.cache.used == 0
    storage.cache.keep_seconds = 0.0
    await storage.save_upload(late, stream(b"4567"), keep_local=True)
    await trio.sleep(0.01)
    assert storage.cache.take(new_media_id()) is None  # any cache use drops expired copies
    assert storage.cache.used == 0
    assert staged_files(storage) == []
    await storage.delete(late.media_id)


async def test_emptied_copy_directories_are_reused(storage: S3Storage) -> None:
    first, second = meta("a.jpg"), meta("b.jpg")
    await storage.save_upload(first, stream(b"one"), keep_local=True)
    async with storage.local_file(first) as path:
        used = path.parent
    assert used.is_dir()
    assert list(used.iterdir()) == []
    await storage.save_upload(second, stream(b"two"), keep_local=True)
    async with storage.local_file(second) as path:
        assert path.parent == used
        assert path.read_bytes() == b"two"
        assert [p.name for p in used.iterdir()] == ["b.jpg"]
    assert list(used.iterdir()) == []
    assert storage.cache.used == 0
    assert staged_files(storage) == []


async def test_sidecar_of_a_package_deleted_here_is_refused(storage: S3Storage) -> None:
    item = meta()
    await storage.save_upload(item, stream(b"data"), keep_local=True)
    await storage.put_sidecar(item.media_id, "iscc.json", b"{}")  # known: no HEAD needed
    assert await storage.get_sidecar(item.media_id, "iscc.json") == b"{}"
    await storage.delete(item.media_id)
    with pytest.raises(NotFound):
        await storage.put_sidecar(item.media_id, "iscc.json", b"{}")


def test_small_bodies_are_sent_without_expect_continue() -> None:
    import io

    small = {"headers": {"Expect": "100-continue"}, "body": io.BytesIO(b"x" * 100)}
    _no_expect(small)
    assert "Expect" not in small["headers"]
    large = {"headers": {"Expect": "100-continue"},
             "body": io.BytesIO(b"x" * (EXPECT_THRESHOLD + 1))}
    _no_expect(large)
    assert large["headers"]["Expect"] == "100-continue"
