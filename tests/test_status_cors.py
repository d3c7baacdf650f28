"""``GET /api/v1/-/status`` and CORS (CONTRACT §4.3)."""

from __future__ import annotations

import pytest

from tests.conftest import upload_headers


async def test_status_reports_version_plugins_workers_and_storage(client):
    await client.post("/api/v1/media", data=b"12345", headers=upload_headers())
    r = await client.get("/api/v1/-/status", scope_base={"client": ("127.0.0.1", 1)})
    assert r.status_code == 200
    body = await r.get_json()
    assert body["version"]
    names = [p["name"] for p in body["plugins"]]
    assert "media" in names
    assert "explain" in names
    assert all(p["version"] and isinstance(p["hooks"], list) for p in body["plugins"])
    assert {"idle", "running", "queued"} <= body["workers"].keys()
    assert body["storage"]["packages"] == 1
    assert body["storage"]["bytes"] > 5


@pytest.fixture
async def cors_client(make_app):
    app = make_app(kernel={"cors_origins": "https://app.example.com"})
    async with app.test_app() as test_app:
        yield test_app.test_client()


async def test_cors_is_off_by_default(client):
    r = await client.get("/api/v1/-/status", headers={"Origin": "https://app.example.com"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers


async def test_preflight_from_an_allowed_origin(cors_client):
    r = await cors_client.options("/api/v1/media", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "X-Upload-Filename"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    methods = {m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "POST", "DELETE"}
    assert r.headers["Access-Control-Allow-Headers"] == "Content-Type, X-Upload-Filename"
    assert r.headers["Access-Control-Max-Age"] == "300"


async def test_the_site_origin_is_always_allowed(cors_client):
    r = await cors_client.options("/api/v1/media", headers={
        "Origin": "http://localhost:8000", "Access-Control-Request-Method": "GET"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"


async def test_preflight_from_a_foreign_origin_is_400(cors_client):
    r = await cors_client.options("/api/v1/media", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 400
    assert "Access-Control-Allow-Origin" not in r.headers


async def test_actual_responses_carry_cors_headers(cors_client):
    origin = {"Origin": "https://app.example.com"}
    r = await cors_client.post("/api/v1/media", data=b"x", headers={**upload_headers(), **origin})
    assert r.status_code == 201
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    exposed = r.headers["Access-Control-Expose-Headers"].lower()
    assert "location" in exposed
    assert "content-disposition" in exposed
    media_id = (await r.get_json())["media_id"]
    r = await cors_client.delete(f"/api/v1/media/{media_id}", headers=origin)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
