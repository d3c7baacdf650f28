"""S3-only behaviour: id claims, settings, the staging cache bound, stale multipart uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from kernel import InsufficientStorage, ServiceUnavailable, UploadMeta, create_app, new_media_id
from kernel.context import runtime_of
from plugins.s3.create import probe_conditional_writes
from plugins.s3.settings import S3Settings
from plugins.s3.storage import S3Storage
from tests.s3_fixtures import BUCKET, SeaweedFS, s3_table


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
async def storage(seaweedfs: SeaweedFS, tmp_path: Path) -> AsyncIterator[S3Storage]:
    s3 = S3Storage(S3Settings(**s3_table(seaweedfs, tmp_path / "cache", cache_max_bytes=15,
                                         cache_wait=0.3)))
    async with s3:
        yield s3


def meta(media_id: str | None = None, name: str = "a.txt") -> UploadMeta:
    return UploadMeta(media_id or new_media_id(), name, "text/plain", "u" * 64)


async def test_a_claimed_media_id_is_never_reused(storage: S3Storage,
                                                  seaweedfs: SeaweedFS) -> None:
    first = meta(name="first.txt")
    await storage.save_upload(first, stream(b"first"))
    with pytest.raises(ServiceUnavailable):
        await storage.save_upload(meta(first.media_id, "second.txt"), stream(b"second"))
    assert await storage.load_meta(first.media_id) == first
    chunks = [c async for c in storage.read_file(first, 1024)]
    assert chunks == [b"first"]
    names = [k.rsplit("/", 1)[1] for k in seaweedfs.keys(storage.prefix)]
    assert sorted(names) == sorted([f"{first.media_id}.meta.json", "first.txt"])
    assert await probe_conditional_writes(storage.ops, storage.prefix + ".probe-")


async def test_staging_cache_is_bounded(storage: S3Storage) -> None:
    small, big = meta(), meta()
    await storage.save_upload(small, stream(b"0123456789"))
    await storage.save_upload(big, stream(b"0123456789abcdef"))
    with pytest.raises(InsufficientStorage):
        async with storage.local_file(big):
            pass  # pragma: no cover
    async with storage.local_file(small) as path:
        assert path.read_bytes() == b"0123456789"
        with pytest.raises(ServiceUnavailable):  # no room for a second copy within cache_wait
            async with storage.local_file(small):
                pass  # pragma: no cover
    async with storage.local_file(small):  # room again once the first block is left
        assert storage.cache.used == 10
    assert storage.cache.used == 0
    assert storage.cache.staged == 0


async def test_waiting_job_gets_room_when_another_finishes(storage: S3Storage) -> None:
    item = meta()
    await storage.save_upload(item, stream(b"0123456789"))
    order = []

    async def hold() -> None:
        async with storage.local_file(item):
            order.append("first in")
            await trio.sleep(0.1)
        order.append("first out")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(hold)
        await trio.sleep(0.02)
        async with storage.local_file(item):
            order.append("second in")
    assert order == ["first in", "first out", "second in"]


async def test_sweep_aborts_stale_multipart_uploads(storage: S3Storage,
                                                    seaweedfs: SeaweedFS) -> None:
    key = f"{storage.prefix}{new_media_id()}/crashed.bin"
    seaweedfs.client().create_multipart_upload(Bucket=BUCKET, Key=key)
    assert seaweedfs.uploads(storage.prefix) == [key]
    await trio.sleep(1.1)
    assert await storage.sweep(3600) == 0  # young: kept
    assert seaweedfs.uploads(storage.prefix) == [key]
    await storage.sweep(0.5)
    assert seaweedfs.uploads(storage.prefix) == []


def test_settings_from_toml_and_environment(tmp_path: Path) -> None:
    app = create_app(
        {"kernel": {"storage": "s3", "plugins": ["media", "s3"],
                    "media_path": str(tmp_path)},
         "plugin": {"s3": {"bucket": "from-toml", "path_style": True}}},
        env={"ISCC_WEB_S3_BUCKET": "from-env", "ISCC_WEB_S3_SECRET_KEY": "hush",
             "ISCC_WEB_S3_PART_SIZE": str(16 * 1024 * 1024)},
    )
    settings = runtime_of(app).settings.of("s3")
    assert settings.bucket == "from-env"
    assert settings.path_style is True
    assert settings.part_size == 16 * 1024 * 1024
    assert settings.secret_key == "hush"
    assert "hush" not in repr(settings)
    assert isinstance(runtime_of(app).storage, S3Storage)


@pytest.mark.parametrize("table", [{"part_size": 1024}, {"prefix": "no-slash"}, {"nope": 1}])
def test_invalid_settings_are_refused(tmp_path: Path, table: dict) -> None:
    from kernel import ConfigError

    with pytest.raises(ConfigError, match=r"plugin\.s3"):
        create_app({"kernel": {"plugins": ["media", "s3"], "media_path": str(tmp_path)},
                    "plugin": {"s3": table}}, env={})


async def test_only_complete_packages_count_in_usage_and_statistics(
        storage: S3Storage, seaweedfs: SeaweedFS) -> None:
    """Foreign keys under the prefix and a package without its meta record are no packages."""
    done = meta(name="done.txt")
    await storage.save_upload(done, stream(b"12345"))
    client = seaweedfs.client()
    for key in (f"{storage.prefix}not-a-media-id/x.meta.json",
                f"{storage.prefix}{new_media_id()}/half-written.bin",
                f"{storage.prefix}stray.meta.json"):
        client.put_object(Bucket=BUCKET, Key=key, Body=b"xyz")
    usage = await storage.usage()
    assert list(usage) == [done.media_id]
    owner, size = usage[done.media_id]
    assert owner == done.user
    assert size == 5 + len(done.to_json())
    assert (await storage.statistics())["packages"] == 1
