"""``/healthz`` and ``/readyz``: cheap, uncached, quiet in the access log, honest about storage."""

from __future__ import annotations

import logging
import shutil

import httpx

from tests.conftest import serve_live, upload_headers


async def test_healthz_and_readyz_while_serving(make_app):
    app = make_app(kernel={"plugins": ["media"]})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        r = await http.get("/healthz")
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}
        assert r.headers["cache-control"] == "no-store"
        r = await http.get("/readyz")
        assert r.status_code == 200
        assert r.json() == {"status": "ready", "storage": "ok", "workers": "ok"}
        assert r.headers["cache-control"] == "no-store"
        assert (await http.post("/healthz")).status_code == 405


async def test_readyz_flips_to_503_when_storage_is_gone_and_back(make_app, media_path):
    app = make_app(kernel={"plugins": ["media"]})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert (await client.get("/readyz")).status_code == 200
        shutil.rmtree(media_path)
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["retry-after"] == "5"
        assert (await r.get_json())["detail"] == "Not ready: storage unavailable."
        assert (await client.get("/healthz")).status_code == 200  # alive, just not ready
        media_path.mkdir()
        assert (await client.get("/readyz")).status_code == 200


async def test_readyz_is_503_before_the_pool_runs(make_app):
    app = make_app(kernel={"plugins": ["media"]})
    client = app.test_client()  # no lifespan: storage not prepared, workers not started
    r = await client.get("/readyz")
    assert r.status_code == 503
    assert (await r.get_json())["detail"] == "Not ready: storage, workers unavailable."


async def test_probes_are_not_access_logged_at_info(make_app, caplog):
    app = make_app(kernel={"plugins": ["media"]})
    with caplog.at_level(logging.INFO, logger="iscc_web.access"):
        async with app.test_app() as test_app:
            client = test_app.test_client()
            await client.get("/healthz")
            await client.get("/readyz")
            await client.post("/api/v1/media", data=b"x", headers=upload_headers())
    lines = [r.getMessage() for r in caplog.records if r.name == "iscc_web.access"]
    assert len(lines) == 1
    assert lines[0].startswith("POST /api/v1/media 201")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="iscc_web.access"):
        async with make_app(kernel={"plugins": ["media"]}).test_app() as test_app:
            await test_app.test_client().get("/healthz")
    assert [r.getMessage()[:12] for r in caplog.records
            if r.name == "iscc_web.access"] == ["GET /healthz"]
