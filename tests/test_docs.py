"""``/docs`` and ``/docs/openapi.yaml``: the served contract and the offline interactive docs."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest
import trio
import yaml
from openapi_spec_validator import validate

from kernel.context import runtime_of
from plugins.docs.routes import in_contract_order
from tests.conftest import serve_live

STATIC = Path(__file__).resolve().parent.parent / "plugins" / "docs" / "static"
CHROMIUM = shutil.which("chromium")


async def test_served_yaml_is_the_merged_spec(make_app) -> None:
    app = make_app(kernel={"plugins": ["media", "explain", "docs"]})
    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/docs/openapi.yaml")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/yaml"
        served = yaml.safe_load(await response.get_data())
    assert served == in_contract_order(runtime_of(app).openapi)  # the same, tags reordered
    assert set(served["paths"]) == {"/-/status", "/healthz", "/readyz", "/jobs/{job_id}",
                                    "/jobs/{job_id}/events", "/media", "/media/{media_id}",
                                    "/explain/{iscc}"}
    validate(served)


async def test_disabled_groups_are_absent_from_the_served_yaml(make_app) -> None:
    app = make_app(kernel={"plugins": ["explain", "docs"]})
    async with app.test_app() as test_app:
        served = yaml.safe_load(await (await test_app.test_client().get(
            "/docs/openapi.yaml")).get_data())
    assert set(served["paths"]) == {"/-/status", "/healthz", "/readyz", "/jobs/{job_id}",
                                    "/jobs/{job_id}/events", "/explain/{iscc}"}
    assert not any(p.startswith("/media") for p in served["paths"])


async def test_docs_page_loads_only_local_assets(make_app) -> None:
    app = make_app(kernel={"plugins": ["media", "docs"]})
    # over real HTTP: the in-process test client stalls on multi-chunk file responses
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.get("/docs")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert 'data-spec-url="/docs/openapi.yaml"' in response.text
        urls = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert urls
        assert all(u.startswith("/docs/static/") for u in urls), urls
        for asset_url in urls:
            asset = await client.get(asset_url)
            assert asset.status_code == 200, asset_url
            name = asset_url.rpartition("/")[2]
            assert asset.content == (STATIC / name).read_bytes(), asset_url


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
async def test_docs_render_in_headless_chromium_without_internet(make_app) -> None:
    """Every host but 127.0.0.1 is unresolvable for the browser: the page must still render."""
    app = make_app(kernel={"plugins": ["media", "explain", "docs"]})
    async with serve_live(app) as url:
        with tempfile.TemporaryDirectory() as profile:
            result = await trio.run_process(
                [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 "--virtual-time-budget=8000", "--dump-dom", f"{url}/docs"],
                capture_stdout=True, capture_stderr=True,
            )
    dom = result.stdout.decode()
    summaries = re.findall(r'opblock-summary-description">([^<]*)<', dom)
    # every operation, grouped in the contract's tag order
    assert summaries == ["Upload file", "Download file", "Delete file", "Explain ISCC",
                         "Service status", "Liveness probe", "Readiness probe", "Get job",
                         "Job events"], dom[-2000:]
    assert "ISCC-WEB Generator API" in dom


def test_vendored_assets_are_complete_and_offline() -> None:
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "docs.js", "favicon-32x32.png",
                 "LICENSE", "VERSION"):
        assert (STATIC / name).is_file(), name
    css = (STATIC / "swagger-ui.css").read_text("utf-8")
    assert "@import" not in css
    assert not re.search(r"url\((?!\"?data:)", css), "the CSS loads something from elsewhere"
    assert "validatorUrl: null" in (STATIC / "docs.js").read_text("utf-8")


async def test_docs_off_when_not_enabled(make_app) -> None:
    app = make_app(kernel={"plugins": ["media"]})
    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/docs")
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/problem+json"
