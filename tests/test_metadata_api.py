"""GET/POST /api/v1/metadata/{media_id} against a real server: extract, embed, every error."""

from __future__ import annotations

import json
import random
from pathlib import Path

import blake3
import httpx
import pytest

from tests.conftest import upload_headers
from tests.iscc_fixtures import (
    IMAGE_SAMPLE,
    PNG_SAMPLE,
    assert_problem,
    build_app,
    live_client,
    make_package,
    packages,
    post_file,
)

#: The incumbent's embed request (CONTRACT §7.2).
EMBED = {
    "name": "The Never Ending Story",
    "description": "a 1984 fantasy film co-written and directed by *Wolfgang Petersen*",
    "meta": "data:application/json;charset=utf-8;base64,eyJleHRlbmRlZCI6Im1ldGFkYXRhIn0=",
    "creator": "Joanne K. Rowling",
    "license": "https://example.com/license-terms-for-this-item",
    "acquire": "https://example.com/buy-license-for-item-here",
    "credit": "Frank Farian - Getty Images",
    "rights": "Copyright 2022 ISCC Foundation - www.iscc.codes",
}
#: Stable across exiv2 versions (ISCC-STACK.md): the metahash and the first 144 composite bits.
EMBED_METAHASH = "1e20c9de45e7067944d16802651b639f31245968a2cfd59a01f351fee07e19116069"
EMBED_ISCC_PREFIX = "ISCC:KECTN76LTY522ZPCYNBTBHR4T2HG"  # header + Meta + Content bits
MAX_BODY = 50_000


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("metadata") / "media"


@pytest.fixture(scope="module")
def api(media: Path):
    app = build_app(media, kernel={"private_files": True, "max_json_body": MAX_BODY})
    with live_client(app) as client:
        yield client


def upload(api: httpx.Client, path: Path, name: str, content_type: str | None = None) -> str:
    r = post_file(api, path, name, content_type, url="/api/v1/media")
    assert r.status_code == 201
    return r.json()["media_id"]


def test_extract_png(api: httpx.Client) -> None:
    media_id = upload(api, PNG_SAMPLE, "test-image.jpg", "image/jpeg")
    r = api.get(f"/api/v1/metadata/{media_id}")
    assert r.status_code == 200
    assert r.json() == {"creator": "Another Cat Lover", "name": "Concentrated Cat PNG"}


def test_embed_round_trip(api: httpx.Client, media: Path) -> None:
    original_id = upload(api, PNG_SAMPLE, "test-image.jpg", "image/jpeg")
    r = api.post(f"/api/v1/metadata/{original_id}", json=EMBED)
    assert r.status_code == 201, r.text
    body = r.json()
    new_id = body["media_id"]
    assert new_id != original_id
    assert r.headers["location"] == f"/api/v1/media/{new_id}"
    assert body["content"].endswith(f"/api/v1/media/{new_id}")
    assert body["creator"] == "Another Cat Lover, Joanne K. Rowling"
    for key in ("name", "description", "meta", "license", "acquire", "rights"):
        assert body[key] == EMBED[key]
    assert body["metahash"] == EMBED_METAHASH
    assert body["iscc"].startswith(EMBED_ISCC_PREFIX)
    assert (body["mode"], body["mediatype"], body["filename"]) == ("image", "image/jpeg",
                                                                  "test-image.jpg")
    assert (body["width"], body["height"]) == (200, 133)
    assert len(body["units"]) == 4
    assert "features" not in body

    new_file = api.get(f"/api/v1/media/{new_id}")
    assert new_file.status_code == 200
    assert new_file.headers["content-type"] == "image/jpeg"
    assert body["filesize"] == len(new_file.content)
    assert body["datahash"] == "1e20" + blake3.blake3(new_file.content).hexdigest()
    stored = api.get(f"/api/v1/iscc/{new_id}").json()
    assert stored == {k: v for k, v in body.items() if k not in ("media_id", "content")}
    new_meta = json.loads((media / new_id / f"{new_id}.meta.json").read_text())
    old_meta = json.loads((media / original_id / f"{original_id}.meta.json").read_text())
    assert new_meta["created"] >= old_meta["created"]  # a new package, made now
    assert new_meta == {**old_meta, "media_id": new_id, "created": new_meta["created"]}

    # the original is untouched
    assert api.get(f"/api/v1/media/{original_id}").content == PNG_SAMPLE.read_bytes()
    assert api.get(f"/api/v1/iscc/{original_id}").status_code == 404
    extracted = api.get(f"/api/v1/metadata/{new_id}").json()
    assert extracted["name"] == EMBED["name"]
    assert extracted["creator"] == body["creator"]


def test_extract_errors(api: httpx.Client, media: Path) -> None:
    assert_problem(api.get("/api/v1/metadata/061ko3i97hshu"), 404, "File metadata not found")
    make_package(media, "061ko3i97hsh0", "gone.png", None)
    assert_problem(api.get("/api/v1/metadata/061ko3i97hsh0"), 404, "File not found")
    garbage = random.Random(3).randbytes(2000)
    r = api.post("/api/v1/media", content=garbage, headers=upload_headers("garbage.bin", None))
    media_id = r.json()["media_id"]
    assert_problem(api.get(f"/api/v1/metadata/{media_id}"), 422, "Failed to extract metadata.")
    corrupt = IMAGE_SAMPLE.read_bytes()[:64]  # a truncated image
    r = api.post("/api/v1/media", content=corrupt, headers=upload_headers("broken.jpg", None))
    assert_problem(api.get(f"/api/v1/metadata/{r.json()['media_id']}"), 422,
                   "Failed to extract metadata.")


def test_embed_access_and_existence(api: httpx.Client, media: Path) -> None:
    assert_problem(api.post("/api/v1/metadata/061ko3i97hshu", json={"name": "x"}), 404,
                   "File metadata not found")
    make_package(media, "061ko3i97hsh1", "foreign.png", PNG_SAMPLE.read_bytes())
    assert_problem(api.post("/api/v1/metadata/061ko3i97hsh1", json={"name": "x"}), 403)
    media_id = upload(api, PNG_SAMPLE, "mine.png")
    (media / media_id / "mine.png").unlink()
    assert_problem(api.post(f"/api/v1/metadata/{media_id}", json={"name": "x"}), 404,
                   "File not found")


@pytest.mark.parametrize("body", [
    b"{not json", b"\xff\xfe", b"[]", b'"name"', b'{"name": 5}', b'{"acquire": "not a url"}',
    b'{"acquire": "example.com/path"}', b'{"keywords": [1, 2]}', b'{"description": true}',
    json.dumps({"name": "n" * 129}).encode(), json.dumps({"meta": "m" * 16385}).encode(),
])
def test_embed_invalid_body_is_400(api: httpx.Client, media: Path, body: bytes) -> None:
    media_id = upload(api, PNG_SAMPLE, "body.png")
    before = packages(media)
    r = api.post(f"/api/v1/metadata/{media_id}", content=body,
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    assert packages(media) == before


def test_embed_body_too_large_is_413(api: httpx.Client) -> None:
    media_id = upload(api, PNG_SAMPLE, "large.png")
    r = api.post(f"/api/v1/metadata/{media_id}", json={"description": "d" * MAX_BODY})
    assert_problem(r, 413)


def test_embed_failures_are_422_without_new_package(api: httpx.Client, media: Path) -> None:
    bmp_id = upload(api, IMAGE_SAMPLE, "test-image.jpg", "image/jpeg")  # BMP: not writable
    blob_id = upload(api, Path(__file__), "blob.bin")
    before = packages(media)
    assert_problem(api.post(f"/api/v1/metadata/{bmp_id}", json={"name": "x"}), 422,
                   "Failed to embed metadata.")
    r = api.post(f"/api/v1/metadata/{blob_id}", json={"name": "x"})
    assert assert_problem(r, 422)["detail"].startswith("Failed to embed metadata")
    assert packages(media) == before


def test_embed_keywords_and_unknown_keys(api: httpx.Client) -> None:
    media_id = upload(api, PNG_SAMPLE, "kw.png")
    r = api.post(f"/api/v1/metadata/{media_id}",
                 json={"name": "Keywords", "keywords": ["a", "b"], "unknown": 1, "credit": None})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Keywords"
