"""S3: small single-key requests bypass botocore, signed so that the real store accepts them.

Against the session's real SeaweedFS (which checks every Signature Version 4). What boto3 does
is counted through its own event hooks; what ends up in the bucket is read with the test's own
boto3 client, never through the backend under test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kernel import ServiceUnavailable, UploadMeta, new_media_id
from plugins.s3.direct import DirectObjects
from plugins.s3.ops import make_client
from plugins.s3.settings import S3Settings
from plugins.s3.storage import S3Storage
from tests.s3_fixtures import BUCKET, SeaweedFS, s3_table


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def meta(name: str = "a.bin") -> UploadMeta:
    return UploadMeta(new_media_id(), name, "image/jpeg", "u" * 64)


@pytest.fixture
async def storage(seaweedfs: SeaweedFS, tmp_path: Path) -> AsyncIterator[S3Storage]:
    s3 = S3Storage(S3Settings(**s3_table(seaweedfs, tmp_path / "cache")))
    async with s3:
        yield s3


def count_boto3_calls(storage: S3Storage) -> list[str]:
    """Names of the boto3 operations the backend runs from now on."""
    calls: list[str] = []

    def seen(model: Any, **kwargs: Any) -> None:
        calls.append(model.name)

    storage.ops.client.meta.events.register("before-call.s3", seen)
    return calls


async def test_a_small_upload_and_its_result_take_no_boto3_call(storage: S3Storage,
                                                                seaweedfs: SeaweedFS) -> None:
    assert storage.ops.direct is not None
    calls = count_boto3_calls(storage)
    item = meta("photo.jpg")
    await storage.save_upload(item, stream(b"jpeg", b"bytes"), keep_local=True)
    async with storage.local_file(item) as path:
        assert path.read_bytes() == b"jpegbytes"
    await storage.put_sidecar(item.media_id, "iscc.json", b'{"iscc":"ISCC:X"}')
    assert await storage.load_meta(item.media_id) == item
    assert await storage.file_size(item) == 9
    assert await storage.get_sidecar(item.media_id, "iscc.json") == b'{"iscc":"ISCC:X"}'
    assert calls == []
    package = f"{storage.prefix}{item.media_id}/"
    assert seaweedfs.keys(package) == sorted(
        package + name for name in (f"{item.media_id}.iscc.json", f"{item.media_id}.meta.json",
                                    "photo.jpg"))
    stored = seaweedfs.client().get_object(Bucket=BUCKET, Key=package + "photo.jpg")
    assert stored["ContentType"] == "image/jpeg"
    assert stored["Body"].read() == b"jpegbytes"


@pytest.mark.parametrize("name", ["a b+c=d&e;f,g.txt", "Grüße ü 日本語 (1) [x] 'q' ~t.txt",
                                  "100% %2F #frag ?query.txt"])
async def test_names_that_need_percent_encoding_are_signed_and_stored_exactly(
        storage: S3Storage, seaweedfs: SeaweedFS, name: str) -> None:
    item = meta(name)
    await storage.save_upload(item, stream(b"content"))
    key = f"{storage.prefix}{item.media_id}/{item.clean_file_name}"
    assert key in seaweedfs.keys(storage.prefix)
    assert await storage.file_size(item) == 7
    assert [c async for c in storage.read_file(item, 1024)] == [b"content"]
    await storage.delete(item.media_id)
    assert seaweedfs.keys(f"{storage.prefix}{item.media_id}/") == []


async def test_a_wrong_secret_is_a_clean_503_and_leaves_nothing(seaweedfs: SeaweedFS,
                                                                tmp_path: Path) -> None:
    table = s3_table(seaweedfs, tmp_path / "cache", secret_key="not-the-secret",
                     max_attempts=1)
    async with S3Storage(S3Settings(**table)) as s3:
        with pytest.raises(ServiceUnavailable):
            await s3.save_upload(meta(), stream(b"x"))
    assert seaweedfs.keys(table["prefix"]) == []


def test_the_direct_path_talks_to_the_bucket_boto3_resolves(seaweedfs: SeaweedFS,
                                                            tmp_path: Path) -> None:
    table = s3_table(seaweedfs, tmp_path / "cache")
    table.pop("cache_dir")
    client, direct = make_client(S3Settings(**table))
    assert isinstance(direct, DirectObjects)
    assert (direct.host_header, direct.base_path) == (
        seaweedfs.endpoint.removeprefix("http://"), f"/{BUCKET}/")
    key = f"{table['prefix']}probe"
    try:
        direct.put(key, b"both", content_type="text/plain")
        assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"both"
        assert direct.get(key) == b"both"
        assert direct.head(key).headers["content-length"] == "4"
        assert direct.idle_connections == 1  # one kept connection served all four requests
    finally:
        client.delete_object(Bucket=BUCKET, Key=key)
        direct.close()
        client.close()
    # AWS itself (no endpoint configured) stays with boto3, which handles its redirects
    aws, none = make_client(S3Settings(access_key="k", secret_key="s"))
    assert none is None
    aws.close()
