"""The Storage Protocol, one suite for every backend: the filesystem and S3 (real SeaweedFS)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import attrs
import blake3
import pytest
import trio

from kernel import NotFound, PayloadTooLarge, UploadMeta, new_media_id
from kernel.storage_fs import FileSystemStorage
from kernel.workers import Job
from plugins.s3.settings import S3Settings
from plugins.s3.storage import S3Storage
from tests.s3_fixtures import s3_table

MiB = 1024 * 1024


@attrs.define
class Backend:
    """A started backend plus the test's own view of what it left behind."""

    name: str
    storage: FileSystemStorage | S3Storage
    leftovers: Callable[[], list[str]]


@pytest.fixture(params=["fs", "s3"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "fs":
        root = tmp_path / "media"
        fs = FileSystemStorage(root)
        async with fs:
            yield Backend("fs", fs, lambda: sorted(p.name for p in root.iterdir()))
        return
    server = request.getfixturevalue("seaweedfs")
    settings = S3Settings(**s3_table(server, tmp_path / "cache"))
    s3 = S3Storage(settings)

    def leftovers() -> list[str]:
        return server.keys(settings.prefix) + server.uploads(settings.prefix)

    async with s3:
        yield Backend("s3", s3, leftovers)


def make_meta(name: str = "hello.txt", media_id: str | None = None) -> UploadMeta:
    return UploadMeta(media_id=media_id or new_media_id(), file_name=name,
                      content_type="text/plain", user="u" * 64)


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(storage: FileSystemStorage | S3Storage, meta: UploadMeta) -> bytes:
    return b"".join([chunk async for chunk in storage.read_file(meta, 64 * 1024)])


def pattern(size: int) -> bytes:
    """Deterministic bytes that are not all alike (so a misplaced part shows)."""
    block = os.urandom(1024)
    return (block * (size // 1024 + 1))[:size]


async def test_round_trip(backend: Backend) -> None:
    storage, meta = backend.storage, make_meta("héllo wörld.txt")
    assert await storage.save_upload(meta, stream(b"hello ", b"world")) == 11
    assert await storage.load_meta(meta.media_id) == meta
    assert await storage.file_size(meta) == 11
    assert await read_all(storage, meta) == b"hello world"
    assert await storage.get_sidecar(meta.media_id, "iscc.json") is None
    await storage.put_sidecar(meta.media_id, "iscc.json", b'{"iscc": "x"}')
    assert await storage.get_sidecar(meta.media_id, "iscc.json") == b'{"iscc": "x"}'
    await storage.put_sidecar(meta.media_id, "iscc.json", b"{}")  # replaces atomically
    assert await storage.get_sidecar(meta.media_id, "iscc.json") == b"{}"
    stats = await storage.statistics()
    assert stats["packages"] == 1
    assert stats["bytes"] >= 11
    assert await storage.delete(meta.media_id) is True
    with pytest.raises(NotFound, match="File metadata not found"):
        await storage.load_meta(meta.media_id)
    assert await storage.delete(meta.media_id) is False
    assert await storage.get_sidecar(meta.media_id, "iscc.json") is None
    assert backend.leftovers() == []


async def test_large_upload_streams_in_parts(backend: Backend) -> None:
    data = pattern(12 * MiB + 123)  # three parts of the 5 MiB test part size
    meta = make_meta("big.bin")
    chunks = (data[i:i + 100_000] for i in range(0, len(data), 100_000))

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    assert await backend.storage.save_upload(meta, body()) == len(data)
    assert await backend.storage.file_size(meta) == len(data)
    got = await read_all(backend.storage, meta)
    assert blake3.blake3(got).digest() == blake3.blake3(data).digest()
    assert await backend.storage.delete(meta.media_id)
    assert backend.leftovers() == []


async def test_package_invisible_until_complete(backend: Backend) -> None:
    storage, meta = backend.storage, make_meta()
    send, receive = trio.open_memory_channel[bytes](0)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in receive:
            yield chunk

    async with trio.open_nursery() as nursery:
        nursery.start_soon(storage.save_upload, meta, body())
        await send.send(b"x" * (6 * MiB))  # past the first part for S3
        await send.send(b"y")
        with pytest.raises(NotFound):
            await storage.load_meta(meta.media_id)
        await send.aclose()
    assert await storage.file_size(meta) == 6 * MiB + 1
    await storage.delete(meta.media_id)


@pytest.mark.parametrize("at", [10, 7 * MiB], ids=["first-part", "later-part"])
async def test_failing_stream_leaves_nothing(backend: Backend, at: int) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"a" * at
        raise PayloadTooLarge("too big")

    meta = make_meta()
    with pytest.raises(PayloadTooLarge):
        await backend.storage.save_upload(meta, body())
    with pytest.raises(NotFound):
        await backend.storage.load_meta(meta.media_id)
    assert backend.leftovers() == []


@pytest.mark.parametrize("at", [10, 7 * MiB], ids=["first-part", "later-part"])
async def test_cancelled_upload_leaves_nothing(backend: Backend, at: int) -> None:
    """A client disconnect cancels the view: the shielded cleanup still removes everything."""
    started = trio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"a" * at
        started.set()
        await trio.sleep_forever()
        yield b""  # pragma: no cover

    meta = make_meta()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(backend.storage.save_upload, meta, body())
        await started.wait()
        await trio.sleep(0.2)  # let a part upload start
        nursery.cancel_scope.cancel()
    with pytest.raises(NotFound):
        await backend.storage.load_meta(meta.media_id)
    assert backend.leftovers() == []


async def test_save_file_consumes_source(backend: Backend, tmp_path: Path) -> None:
    source = tmp_path / "embedded.png"
    source.write_bytes(b"\x89PNG fake")
    meta = make_meta("embedded.png")
    assert await backend.storage.save_file(meta, source) == 9
    assert not source.exists()
    assert await read_all(backend.storage, meta) == b"\x89PNG fake"
    assert await backend.storage.load_meta(meta.media_id) == meta
    await backend.storage.delete(meta.media_id)


async def test_local_file(backend: Backend) -> None:
    meta = make_meta("photo.jpg")
    await backend.storage.save_upload(meta, stream(b"jpeg bytes"))
    async with backend.storage.local_file(meta) as path:
        assert path.name == "photo.jpg"
        assert path.read_bytes() == b"jpeg bytes"
    if backend.name == "s3":
        assert not path.exists()  # the staged copy is gone
        assert backend.storage.cache.used == 0
    await backend.storage.delete(meta.media_id)


async def _no_worker(*args: object) -> None:
    raise AssertionError("no job runs here")


async def test_missing_package(backend: Backend, tmp_path: Path) -> None:
    storage, meta = backend.storage, make_meta()
    (tmp_path / "job").mkdir()
    job = Job(tmp_path / "job", runner=_no_worker)  # where the file would be placed
    for bad in (meta.media_id, "not-a-media-id"):
        with pytest.raises(NotFound, match="File metadata not found"):
            await storage.load_meta(bad)
    with pytest.raises(NotFound, match="File not found"):
        await storage.file_size(meta)
    with pytest.raises(NotFound, match="File not found"):
        await read_all(storage, meta)
    # refused on entering the block (S3) or where the path is used (file system)
    with pytest.raises(NotFound, match="File not found"):
        async with storage.local_file(meta) as path:
            await job.add_input(path)
    assert list(job.path.iterdir()) == []
    with pytest.raises(NotFound):
        await storage.put_sidecar(meta.media_id, "iscc.json", b"{}")
    assert await storage.get_sidecar(meta.media_id, "iscc.json") is None
    assert await storage.delete(meta.media_id) is False
    assert backend.leftovers() == []


async def _created_at(backend: Backend, media_id: str) -> float:
    """When the store says a package was made (S3: its oldest object's LastModified)."""
    assert isinstance(backend.storage, S3Storage)
    objects = await backend.storage.ops.list_keys(f"{backend.storage.prefix}{media_id}/")
    return min(obj["LastModified"].timestamp() for obj in objects)


async def test_sweep_removes_only_expired(backend: Backend) -> None:
    """The age comes from the meta record (fs) or the store's own timestamps (S3), never the id."""
    if backend.name == "fs":
        old = attrs.evolve(make_meta(), created=time.time() - 7200)
        new = make_meta()
        await backend.storage.save_upload(old, stream(b"old"))
        await backend.storage.put_sidecar(old.media_id, "iscc.json", b"{}")
        await backend.storage.save_upload(new, stream(b"new"))
        max_age = 3600.0
    else:  # S3 timestamps cannot be set: make two packages 1.5 s apart, cut between them
        old, new = make_meta(), make_meta()
        await backend.storage.save_upload(old, stream(b"old"))
        await backend.storage.put_sidecar(old.media_id, "iscc.json", b"{}")
        await trio.sleep(1.5)
        await backend.storage.save_upload(new, stream(b"new"))
        middle = (await _created_at(backend, old.media_id)
                  + await _created_at(backend, new.media_id)) / 2
        max_age = time.time() - middle
    assert await backend.storage.sweep(max_age) == 1
    with pytest.raises(NotFound):
        await backend.storage.load_meta(old.media_id)
    assert await backend.storage.load_meta(new.media_id) == new
    assert await backend.storage.sweep(max_age) == 0
    assert (await backend.storage.statistics())["packages"] == 1
    await backend.storage.delete(new.media_id)


async def test_concurrent_sweeps(backend: Backend) -> None:
    """Several instances sweeping at once: each package is removed once, nothing fails."""
    metas = [make_meta() for _ in range(5)]
    for meta in metas:
        await backend.storage.save_upload(meta, stream(b"z"))
    counts: list[int] = []

    async def sweep() -> None:
        counts.append(await backend.storage.sweep(-1))  # everything has expired

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(sweep)
    assert 5 <= sum(counts) <= 15  # a package may be counted by more than one sweeper
    assert backend.leftovers() == []


async def test_shared_secret_is_created_once_and_shared(backend: Backend) -> None:
    """Every instance on one backend gets the same secret, however many ask at once."""
    got: list[bytes] = []

    async def ask() -> None:
        got.append(await backend.storage.shared_secret("test_key"))

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(ask)
    assert len(got[0]) == 32
    assert len(set(got)) == 1
    assert await backend.storage.shared_secret("test_key") == got[0]
    assert await backend.storage.shared_secret("other_key") != got[0]
    assert (await backend.storage.statistics())["packages"] == 0
    assert await backend.storage.sweep(-1) == 0
    assert await backend.storage.shared_secret("test_key") == got[0]  # the sweeper kept it


def test_a_failed_sidecar_write_leaves_the_old_sidecar_and_no_temp_file(tmp_path: Path) -> None:
    """A write that fails midway (here: data the file cannot take) removes its temp file."""
    from kernel.storage_fs import _write_atomic

    target = tmp_path / "m.iscc.json"
    _write_atomic(target, b"old")
    with pytest.raises(TypeError):
        _write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.iscc.json"]
