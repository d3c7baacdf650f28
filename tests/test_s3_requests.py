"""S3: which requests the store receives, and who owns a media id without a claim object.

Against the session's real SeaweedFS, through a recording relay (tests/s3_proxy.py) where the
requests are counted or an answer is lost; what ends up in the bucket is read with the test's
own boto3 client.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from kernel import ServiceUnavailable, UploadMeta, create_app, new_media_id
from plugins.s3.settings import S3Settings
from plugins.s3.storage import S3Storage
from tests.conftest import serve_live, upload_headers
from tests.iscc_fixtures import IMAGE_SAMPLE
from tests.s3_fixtures import BUCKET, SeaweedFS, s3_table
from tests.s3_proxy import Seen, StoreProxy, store_proxy

MiB = 1024 * 1024


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def meta(media_id: str | None = None, name: str = "a.txt") -> UploadMeta:
    return UploadMeta(media_id or new_media_id(), name, "text/plain", "u" * 64)


@pytest.fixture
def proxy(seaweedfs: SeaweedFS) -> Iterator[StoreProxy]:
    with store_proxy(seaweedfs.endpoint) as relay:
        yield relay


def settings(seaweedfs: SeaweedFS, cache: Path, **overrides: Any) -> dict[str, Any]:
    return s3_table(seaweedfs, cache, **overrides)


@pytest.fixture
async def storage(seaweedfs: SeaweedFS, proxy: StoreProxy,
                  tmp_path: Path) -> AsyncIterator[S3Storage]:
    table = settings(seaweedfs, tmp_path / "cache", endpoint=proxy.endpoint)
    async with S3Storage(S3Settings(**table)) as s3:
        yield s3


@pytest.fixture
async def other(seaweedfs: SeaweedFS, storage: S3Storage,
                tmp_path: Path) -> AsyncIterator[S3Storage]:
    """A second instance on the same bucket and prefix, straight to the store."""
    table = settings(seaweedfs, tmp_path / "cache-other", prefix=storage.prefix)
    async with S3Storage(S3Settings(**table)) as s3:
        yield s3


def names(seaweedfs: SeaweedFS, storage: S3Storage | str, media_id: str) -> list[str]:
    """The keys of a package, without its prefix (``storage``: a backend or a key prefix)."""
    prefix = storage if isinstance(storage, str) else storage.prefix
    package = f"{prefix}{media_id}/"
    return [key.removeprefix(package) for key in seaweedfs.keys(package)]


def iscc_app(table: dict[str, Any], tmp_path: Path, **kernel: Any) -> Any:
    """An app with the iscc group on S3 (``table``), one worker, ``kernel`` settings on top."""
    return create_app({"kernel": {"storage": "s3", "plugins": ["media", "iscc", "s3"],
                                  "media_path": str(tmp_path / "media"), "max_workers": 1,
                                  "cleanup_interval": 0, "log_level": "WARNING", **kernel},
                       "plugin": {"s3": table}}, env={})


async def test_a_small_post_iscc_makes_three_store_requests(seaweedfs: SeaweedFS,
                                                            proxy: StoreProxy,
                                                            tmp_path: Path) -> None:
    table = settings(seaweedfs, tmp_path / "cache", endpoint=proxy.endpoint)
    app = iscc_app(table, tmp_path)
    prefix = table["prefix"]
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url, timeout=120) as http:
        seen = len(proxy.seen)
        answer = await http.post("/api/v1/iscc", content=IMAGE_SAMPLE.read_bytes(),
                                 headers=upload_headers("test-image.jpg", "image/jpeg"))
        assert answer.status_code == 201, answer.text
        requests = proxy.seen[seen:]
        media_id = answer.json()["media_id"]
        package = f"{prefix}{media_id}/"
        assert [(r.method, r.key) for r in requests] == [
            ("PUT", package + "test-image.jpg"), ("PUT", package + f"{media_id}.meta.json"),
            ("PUT", package + f"{media_id}.iscc.json")]
        file, record, result = requests
        assert file.headers["if-none-match"] == record.headers["if-none-match"] == "*"
        assert "if-none-match" not in result.headers
        assert file.headers["x-amz-meta-upload"] == record.headers["x-amz-meta-upload"]
        assert (await http.get(f"/api/v1/iscc/{media_id}")).json()["iscc"].startswith("ISCC:")
    stored = seaweedfs.client().get_object(Bucket=BUCKET, Key=package + "test-image.jpg")
    assert stored["Body"].read() == IMAGE_SAMPLE.read_bytes()
    assert sorted(names(seaweedfs, prefix, media_id)) == sorted(
        ["test-image.jpg", f"{media_id}.meta.json", f"{media_id}.iscc.json"])


async def test_an_async_iscc_job_stores_its_state_twice(seaweedfs: SeaweedFS,
                                                        proxy: StoreProxy,
                                                        tmp_path: Path) -> None:
    """Queued and done; its phases in between are only kept locally, as the job ends within
    ``job_poll_interval`` (each phase used to cost a PUT: nine requests in all)."""
    table = settings(seaweedfs, tmp_path / "cache", endpoint=proxy.endpoint)
    app = iscc_app(table, tmp_path, warm_workers=True, job_poll_interval=60)
    prefix = table["prefix"]
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url, timeout=120) as http:
        seen = len(proxy.seen)
        answer = await http.post("/api/v1/iscc", content=IMAGE_SAMPLE.read_bytes(),
                                 headers={**upload_headers("test-image.jpg", "image/jpeg"),
                                          "Prefer": "respond-async, wait=60"})
        assert answer.status_code == 201, answer.text
        media_id = answer.json()["media_id"]
        package = f"{prefix}{media_id}/"
        job = package + f"{media_id}.job.json"
        requests = proxy.seen[seen:]
        assert [(r.method, r.key) for r in requests] == [
            ("PUT", package + "test-image.jpg"), ("PUT", package + f"{media_id}.meta.json"),
            ("PUT", job), ("PUT", package + f"{media_id}.iscc.json"), ("PUT", job)]
    stored = seaweedfs.client().get_object(Bucket=BUCKET, Key=job)["Body"].read()
    record = json.loads(stored)
    assert (record["status"], record["phase"]) == ("done", "done")
    assert record["result"]["iscc"] == answer.json()["iscc"]


@pytest.mark.parametrize("path", ["direct", "boto3"])
async def test_another_instance_cannot_take_a_used_media_id(storage: S3Storage,
                                                            other: S3Storage,
                                                            seaweedfs: SeaweedFS,
                                                            path: str) -> None:
    if path == "boto3" and other.ops.direct is not None:  # as on AWS: all through boto3
        other.ops.direct.close()
        other.ops.direct = None
    first = meta(name="first.txt")
    await storage.save_upload(first, stream(b"first"))
    for name, body in (("first.txt", b"same name"), ("second.txt", b"other name"),
                       ("first.txt", b"m" * (6 * MiB)), ("big.bin", b"m" * (6 * MiB))):
        with pytest.raises(ServiceUnavailable):  # a small PUT or a multipart upload
            async with aclosing(stream(body)) as chunks:  # closed as the kernel closes it
                await other.save_upload(meta(first.media_id, name), chunks)
    assert await other.load_meta(first.media_id) == first
    assert [chunk async for chunk in other.read_file(first, 1024)] == [b"first"]
    assert sorted(names(seaweedfs, storage, first.media_id)) == sorted(
        ["first.txt", f"{first.media_id}.meta.json"])
    assert seaweedfs.uploads(storage.prefix) == []
    assert other.removal.orphans == {}


async def test_a_lost_answer_to_a_write_that_landed_is_recognised(
        storage: S3Storage, proxy: StoreProxy, seaweedfs: SeaweedFS) -> None:
    """The retry finds the key present; its token says it is this creation's own write."""
    for lost in ("file.txt", ".meta.json"):
        item = meta(name="file.txt")
        proxy.lose(lambda seen, end=lost: seen.method == "PUT" and seen.key.endswith(end),
                   times=1)
        start = len(proxy.seen)
        await storage.save_upload(item, stream(b"body"))
        assert not proxy.losing  # it was lost
        assert await storage.load_meta(item.media_id) == item
        assert sorted(names(seaweedfs, storage, item.media_id)) == sorted(
            ["file.txt", f"{item.media_id}.meta.json"])
        methods = [(s.method, s.key.rsplit("/", 1)[1]) for s in proxy.seen[start:]]
        landed = "file.txt" if lost == "file.txt" else f"{item.media_id}.meta.json"
        assert methods.count(("PUT", landed)) == 2
        assert methods.count(("HEAD", landed)) == 1  # asked whose it is, once


def meta_puts(seen: Seen) -> bool:
    return seen.method == "PUT" and seen.key.endswith(".meta.json")


async def test_a_failed_creation_removes_its_own_writes(
        seaweedfs: SeaweedFS, proxy: StoreProxy, tmp_path: Path) -> None:
    """Every answer to the meta record's PUT is lost: it landed, but the creation cannot
    know, so its cleanup asks whose the record is and removes it and the file."""
    table = settings(seaweedfs, tmp_path / "cache", endpoint=proxy.endpoint, max_attempts=1)
    async with S3Storage(S3Settings(**table)) as storage:
        item = meta(name="file.txt")
        proxy.lose(meta_puts)
        with pytest.raises(ServiceUnavailable):
            await storage.save_upload(item, stream(b"body"), keep_local=True)
        proxy.lose(None)
        assert names(seaweedfs, storage, item.media_id) == []
        assert storage.removal.orphans == {}
        assert storage.cache.staged == 0


async def test_a_refused_cleanup_is_retried_before_the_next_upload(
        seaweedfs: SeaweedFS, proxy: StoreProxy, tmp_path: Path) -> None:
    table = settings(seaweedfs, tmp_path / "cache", endpoint=proxy.endpoint, max_attempts=1)
    async with S3Storage(S3Settings(**table)) as storage:
        item = meta(name="file.txt")
        # the meta record's answers are lost, and so are those to whose it is
        proxy.lose(lambda seen: meta_puts(seen) or seen.method == "HEAD")
        with pytest.raises(ServiceUnavailable):
            await storage.save_upload(item, stream(b"body"))
        proxy.lose(None)
        assert list(storage.removal.orphans) == [item.media_id]
        assert await storage.load_meta(item.media_id) == item  # visible until removed
        await storage.save_upload(meta(), stream(b"next"))
        assert names(seaweedfs, storage, item.media_id) == []
        assert storage.removal.orphans == {}
        assert (await storage.statistics())["pending_cleanups"] == 0


async def created_at(storage: S3Storage, media_id: str) -> float:
    """The store's own time of a package's oldest object."""
    objects = await storage.ops.list_keys(f"{storage.prefix}{media_id}/")
    return min(obj["LastModified"].timestamp() for obj in objects)


async def test_sweep_removes_what_a_crashed_creation_left(storage: S3Storage,
                                                          seaweedfs: SeaweedFS) -> None:
    """A file without a meta record, or a placeholder with its multipart upload in progress,
    is invisible and removed once it is older than the expiry (S3 timestamps cannot be set:
    the leftovers are made 1.5 s before a young package, and the cut lies between)."""
    client = seaweedfs.client()
    small, large = new_media_id(), new_media_id()
    client.put_object(Bucket=BUCKET, Key=f"{storage.prefix}{small}/left.txt", Body=b"x")
    placeholder = f"{storage.prefix}{large}/big.bin"
    client.put_object(Bucket=BUCKET, Key=placeholder, Body=b"")
    client.create_multipart_upload(Bucket=BUCKET, Key=placeholder)
    await trio.sleep(1.5)
    young = meta()
    await storage.save_upload(young, stream(b"young"))
    assert await storage.sweep(3600) == 0
    middle = (await created_at(storage, large) + await created_at(storage, young.media_id)) / 2
    assert await storage.sweep(time.time() - middle) == 2
    assert names(seaweedfs, storage, small) == names(seaweedfs, storage, large) == []
    assert seaweedfs.uploads(storage.prefix) == []
    assert await storage.load_meta(young.media_id) == young
