"""Security headers on every kind of answer; compression where it helps and nowhere else."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import httpx
import yaml

from kernel.headers import API_POLICY, csp_hash
from tests.conftest import serve_live, upload_headers

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ["media", "explain", "docs", "ui"]
LOCAL = {"client": ("127.0.0.1", 4000)}


def decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None
    return body


def assert_common(headers) -> None:
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] or (
        headers["Content-Security-Policy"] == "sandbox")


async def test_headers_on_every_kind_of_answer(make_app):
    app = make_app(kernel={"plugins": PLUGINS, "cors_origins": "https://app.example.com"})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        page = await client.get("/")
        html = await page.get_data(as_text=True)
        inline = re.findall(r"<script>(.*?)</script>", html, re.S)
        assert len(inline) == 1
        assert inline[0].startswith("window.__ISCC_WEB__ = ")
        policy = page.headers["Content-Security-Policy"]
        assert f"script-src 'self' {csp_hash(inline[0])};" in policy
        assert "default-src 'self'" in policy
        assert "'unsafe-inline'" not in policy
        assert "'unsafe-eval'" not in policy
        assert "object-src 'none'" in policy
        assert_common(page.headers)

        docs = await client.get("/docs")
        html = await docs.get_data(as_text=True)
        assert "<script>" not in html  # the docs page has no inline script at all
        styles = re.findall(r"<style>(.*?)</style>", html, re.S)
        assert f"style-src 'self' {csp_hash(styles[0])};" in docs.headers[
            "Content-Security-Policy"]
        assert "script-src 'self';" in docs.headers["Content-Security-Policy"]
        assert_common(docs.headers)

        for path in ("/api/v1/explain/AAA4RJYGHHVRCZ5T", "/api/v1/nope", "/api/v1/-/status",
                     "/docs/openapi.yaml", "/healthz"):
            r = await client.get(path)
            assert r.headers["Content-Security-Policy"] == API_POLICY, path
            assert_common(r.headers)

        r = await client.post("/api/v1/media", data=b"<svg onload=alert(1)>",
                              headers={**upload_headers("x.svg", "image/svg+xml"),
                                       "Origin": "https://app.example.com"}, scope_base=LOCAL)
        assert r.status_code == 201
        assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert r.headers["Access-Control-Expose-Headers"] == "location, content-disposition"
        media_id = (await r.get_json())["media_id"]
        download = await client.get(f"/api/v1/media/{media_id}", scope_base=LOCAL)
        assert download.status_code == 200
        assert download.headers["Content-Security-Policy"] == "sandbox"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Type"] == "image/svg+xml"
        assert_common(download.headers)

        preflight = await client.options("/api/v1/media", headers={
            "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200
        assert_common(preflight.headers)


async def test_204_carries_no_content_type_on_the_wire(make_app):
    app = make_app(kernel={"plugins": PLUGINS})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        r = await http.post("/api/v1/media", content=b"x", headers=upload_headers())
        deleted = await http.delete(f"/api/v1/media/{r.json()['media_id']}")
    assert deleted.status_code == 204
    assert "content-type" not in deleted.headers
    assert "content-length" not in deleted.headers
    assert deleted.content == b""
    assert_common(deleted.headers)


async def test_served_yaml_keeps_the_tag_order(make_app):
    app = make_app(kernel={"plugins": ["media", "explain", "docs"]})
    async with app.test_app() as test_app:
        r = await test_app.test_client().get("/docs/openapi.yaml")
        served = yaml.safe_load(await r.get_data(as_text=True))
    assert [t["name"] for t in served["tags"]] == ["media", "explain", "status", "jobs"]


async def test_served_yaml_of_every_group_reads_like_the_contract(make_app):
    contract = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    app = make_app(kernel={"plugins": ["simprint", "explain", "metadata", "media", "iscc",
                                       "similar", "docs"]})
    async with app.test_app() as test_app:
        r = await test_app.test_client().get("/docs/openapi.yaml")
        served = yaml.safe_load(await r.get_data(as_text=True))
    tags = [t["name"] for t in served["tags"]]
    assert tags == [t["name"] for t in contract["tags"] if t["name"] in tags]
    assert tags[:5] == ["iscc", "media", "metadata", "explain", "simprint"]
    assert list(served["paths"]) == [p for p in contract["paths"] if p in served["paths"]]


async def test_compressed_answers_decode_to_the_same_bytes(make_app):
    app = make_app(kernel={"plugins": PLUGINS})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        html = (await http.get("/")).text
        bundle = re.search(r'src="(/assets/[^"]+\.js)"', html).group(1)
        for path in ("/", bundle, "/docs/openapi.yaml", "/docs/static/swagger-ui-bundle.js",
                     "/docs/static/swagger-ui.css"):
            plain = await http.get(path, headers={"Accept-Encoding": "identity"})
            assert plain.status_code == 200
            assert "content-encoding" not in plain.headers
            assert "Accept-Encoding" in plain.headers["vary"], path
            body = plain.content
            for encoding in ("br", "gzip"):
                for _ in range(2):  # the second one of a static file comes from the cache
                    async with http.stream("GET", path, headers={
                            "Accept-Encoding": f"{encoding}, deflate"}) as packed:
                        raw = b"".join([chunk async for chunk in packed.aiter_raw()])
                    assert packed.headers["content-encoding"] == encoding, path
                    assert int(packed.headers["content-length"]) == len(raw) < len(body)
                    assert decode(raw, encoding) == body, path
                    assert "Accept-Encoding" in packed.headers["vary"]


async def test_what_is_never_compressed(make_app):
    app = make_app(kernel={"plugins": PLUGINS})
    text = b"the same line over and over\n" * 2000  # highly compressible, 56 kB
    accept = {"Accept-Encoding": "br, gzip"}
    async with app.test_app() as test_app:
        client = test_app.test_client()
        r = await client.post("/api/v1/media", data=text,
                              headers=upload_headers("notes.txt", "text/plain"), scope_base=LOCAL)
        media_id = (await r.get_json())["media_id"]
        download = await client.get(f"/api/v1/media/{media_id}", headers=accept,
                                    scope_base=LOCAL)
        assert "Content-Encoding" not in download.headers
        assert download.headers["Content-Length"] == str(len(text))
        assert await download.get_data() == text
        assert "no-transform" in download.headers["Cache-Control"]
        small = await client.get("/api/v1/explain/AAA4RJYGHHVRCZ5T", headers=accept)
        assert len(await small.get_data()) < 1024
        assert "Content-Encoding" not in small.headers
        assert "Vary" not in small.headers  # never compressed at its size: the same for all
        large = await client.get(  # an ISCC-CODE explained is above the threshold
            "/api/v1/explain/KMDMRJYGHHVRCZ5TM6U4G6D4MXA6LAXC4ZRPOKFU7JBEQXR2BJOS6NA",
            headers={"Accept-Encoding": "identity"})
        assert len(await large.get_data()) >= 1024
        assert "Content-Encoding" not in large.headers
        assert "Accept-Encoding" in large.headers["Vary"]
        refused = await client.get("/docs/openapi.yaml",
                                   headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
        assert "Content-Encoding" not in refused.headers
        ranged = await client.get("/docs/openapi.yaml",
                                  headers={**accept, "Range": "bytes=0-99"})
        assert "Content-Encoding" not in ranged.headers


async def test_compression_over_a_real_connection(make_app):
    app = make_app(kernel={"plugins": PLUGINS})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        plain = await http.get("/docs/static/swagger-ui-bundle.js",
                               headers={"Accept-Encoding": "identity"})
        packed = await http.get("/docs/static/swagger-ui-bundle.js",
                                headers={"Accept-Encoding": "br"})
    assert packed.headers["content-encoding"] == "br"
    assert int(packed.headers["content-length"]) < len(plain.content) // 3
    assert packed.content == plain.content  # httpx decoded it


def _browser_missing() -> str | None:
    import os
    import shutil

    if not Path(os.environ.get("ISCC_WEB_E2E_CHROMIUM", "/usr/bin/chromium")).is_file():
        return "chromium not found (apt-get install chromium)"
    if shutil.which("node") is None:
        return "node not found"
    if not (ROOT / "spa" / "node_modules" / "playwright-core").is_dir():
        return "spa/node_modules missing (npm ci in spa/)"
    return None


async def test_app_and_docs_work_under_the_csp_in_chromium(make_app):
    import json
    import os
    import shutil

    import pytest
    import trio

    if _browser_missing():
        pytest.skip(_browser_missing())
    app = make_app(kernel={"plugins": PLUGINS})
    chromium = os.environ.get("ISCC_WEB_E2E_CHROMIUM", "/usr/bin/chromium")
    async with serve_live(app) as url:
        with trio.fail_after(240):
            done = await trio.run_process(
                [shutil.which("node"), str(ROOT / "tests" / "browser_csp.mjs"), url, chromium,
                 str(ROOT / "spa")], capture_stdout=True, capture_stderr=True, check=False)
    lines = done.stdout.decode().strip().splitlines()
    assert lines, done.stderr.decode()[-2000:]
    result = json.loads(lines[-1])
    assert result["errors"] == [], result
    assert result["violations"] == [], result
    assert result["docsViolations"] == [], result
    assert result["appViolations"] == [], result
    tags = result["docsTags"]  # Swagger UI rendered the groups, in the contract's order
    assert len(tags) == 4  # media, explain, status, jobs
    assert tags[0].startswith("media")
    assert tags[1].startswith("explain")
    config = result["appConfig"]  # the hashed inline script ran
    assert config["semanticDefault"] is True
    assert config["storageExpiry"] == 3600
    assert "ISCC" in result["appText"]
    # framed by a page elsewhere: Chromium refuses to render it (an error page instead)
    assert result["frameUrl"].startswith("chrome-error://"), result
    assert result["framedLoaded"] is False
