"""Uploads, downloads and deletes through the ``media`` group (CONTRACT §2.2, §2.5–2.7)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import b64name, upload_headers

PROBLEM = "application/problem+json"


def packages(media_path):
    return sorted(p.name for p in media_path.iterdir() if not p.name.startswith(".")) \
        if media_path.exists() else []


async def test_upload_download_delete_round_trip(client, media_path):
    r = await client.post("/api/v1/media", data=b"some bytes",
                          headers=upload_headers("notes.txt", "text/plain"))
    assert r.status_code == 201
    body = await r.get_json()
    media_id = body["media_id"]
    assert r.headers["Location"] == f"/api/v1/media/{media_id}"
    assert body["content"] == f"http://localhost:8000/api/v1/media/{media_id}"  # site_address
    meta = json.loads((media_path / media_id / f"{media_id}.meta.json").read_text())
    assert meta["file_name"] == "notes.txt"
    assert meta["content_type"] == "text/plain"
    assert len(meta["user"]) == 64
    assert set(meta["user"]) <= set("0123456789abcdef")

    r = await client.get(f"/api/v1/media/{media_id}")
    assert r.status_code == 200
    assert await r.get_data() == b"some bytes"
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-Disposition"] == 'attachment; filename="notes.txt"'

    r = await client.delete(f"/api/v1/media/{media_id}")
    assert r.status_code == 204
    assert packages(media_path) == []
    r = await client.delete(f"/api/v1/media/{media_id}")
    assert r.status_code == 404
    assert (await r.get_json())["detail"] == "File metadata not found"


async def test_upload_without_content_type_downloads_as_octet_stream(client):
    r = await client.post("/api/v1/media", data=b"x", headers=upload_headers("a.bin", None))
    media_id = (await r.get_json())["media_id"]
    r = await client.get(f"/api/v1/media/{media_id}")
    assert r.headers["Content-Type"] == "application/octet-stream"


async def test_non_ascii_file_name_is_kept_and_downloads_with_rfc6266_name(client, media_path):
    name = "Käse/naïve 名前.txt"
    r = await client.post("/api/v1/media", data=b"x", headers=upload_headers(name))
    media_id = (await r.get_json())["media_id"]
    assert (media_path / media_id / "Käsenaïve 名前.txt").exists()
    r = await client.get(f"/api/v1/media/{media_id}")
    disposition = r.headers["Content-Disposition"]
    assert disposition == (
        'attachment; filename="K_sena_ve __.txt"; '
        "filename*=UTF-8''K%C3%A4sena%C3%AFve%20%E5%90%8D%E5%89%8D.txt"
    )


@pytest.mark.parametrize("name", ["..", "/", "x.meta.json"])
async def test_file_name_that_sanitises_to_nothing_gets_a_fallback(client, media_path, name):
    r = await client.post("/api/v1/media", data=b"x", headers=upload_headers(name))
    assert r.status_code == 201
    media_id = (await r.get_json())["media_id"]
    assert (media_path / media_id / "upload.bin").read_bytes() == b"x"


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Missing header X-Upload-Filename."),
        ({"X-Upload-Filename": ""}, "Missing header X-Upload-Filename."),
        ({"X-Upload-Filename": "not base64!"}, "X-Upload-Filename is not base64."),
        ({"X-Upload-Filename": "YQ"}, "X-Upload-Filename is not base64."),
        ({"X-Upload-Filename": "//79"}, "X-Uploaded-Filename is not UTF-8 encoded"),
        ({"X-Upload-Filename": b64name("a.txt"), "Content-Type": "text/plän"},
         "Content-Type must be a media type (type/subtype[; parameters]) of at most 255 bytes."),
    ],
)
async def test_bad_upload_headers_are_400_problems(client, media_path, headers, detail):
    r = await client.post("/api/v1/media", data=b"data", headers=headers)
    assert r.status_code == 400
    assert r.headers["Content-Type"] == PROBLEM
    assert await r.get_json() == {"type": "about:blank", "title": "Bad Request",
                                  "status": 400, "detail": detail}
    assert packages(media_path) == []


async def test_empty_body_is_400(client, media_path):
    r = await client.post("/api/v1/media", data=b"", headers=upload_headers())
    assert r.status_code == 400
    assert packages(media_path) == []


async def test_bad_content_length_is_400(client):
    r = await client.post("/api/v1/media", data=b"abc",
                          headers={**upload_headers(), "Content-Length": "abc"})
    assert r.status_code == 400


async def test_download_of_unknown_or_malformed_id_is_404(client):
    r = await client.get("/api/v1/media/161knt35ej404")
    assert r.status_code == 404
    assert (await r.get_json())["detail"] == "File metadata not found"
    r = await client.get("/api/v1/media/NOT-AN-ID")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == PROBLEM


async def test_package_without_its_file_is_404_file_not_found(client, media_path):
    r = await client.post("/api/v1/media", data=b"x", headers=upload_headers("a.txt"))
    media_id = (await r.get_json())["media_id"]
    (media_path / media_id / "a.txt").unlink()
    r = await client.get(f"/api/v1/media/{media_id}")
    assert r.status_code == 404
    assert (await r.get_json())["detail"] == "File not found"


async def test_wrong_method_is_405_problem(client):
    r = await client.put("/api/v1/media")
    assert r.status_code == 405
    assert r.headers["Content-Type"] == PROBLEM
    assert "POST" in r.headers["Allow"]


async def test_unknown_route_is_404_problem(client):
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    body = await r.get_json()
    assert body["title"] == "Not Found"
    assert body["status"] == 404


async def test_size_limit_declared_content_length(make_app, media_path):
    app = make_app(kernel={"max_upload_size": 10})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        r = await client.post("/api/v1/media", data=b"x" * 10, headers=upload_headers())
        assert r.status_code == 201  # exactly the limit is accepted
        r = await client.post("/api/v1/media", data=b"x" * 11, headers=upload_headers())
        assert r.status_code == 413
        assert (await r.get_json())["detail"] == "Upload exceeds the maximum size of 10 bytes."
    assert len(packages(media_path)) == 1


async def test_delete_of_a_package_that_vanished_is_404(client, app, media_path):
    r = await client.post("/api/v1/media", data=b"x", headers=upload_headers())
    media_id = (await r.get_json())["media_id"]
    from kernel.context import runtime_of

    storage = runtime_of(app).storage
    meta = await storage.load_meta(media_id)
    assert await storage.delete(media_id) is True
    assert await storage.delete(meta.media_id) is False
