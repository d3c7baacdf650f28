"""The ``ui`` plugin: the bundled web app at ``/``, its assets and the injected config."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from plugins.ui import routes as ui_routes

DIST = Path(ui_routes.__file__).resolve().parent / "dist"
CONFIG_RE = re.compile(r"window\.__ISCC_WEB__ = (\{.*?\});</script>")


def injected_config(page: str) -> dict:
    match = CONFIG_RE.search(page)
    assert match, "no window.__ISCC_WEB__ in the page"
    return json.loads(match.group(1))


def asset_paths(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)


async def get_index(app) -> tuple[int, dict, str]:
    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/")
        return response.status_code, response.headers, await response.get_data(as_text=True)


async def test_index_serves_html_with_config_and_no_js_text(make_app):
    status, headers, page = await get_index(make_app())
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-cache"
    assert "<title>ISCC Generator - International Standard Content Code</title>" in page
    assert injected_config(page) == {
        "semanticDefault": True,
        "storageExpiry": 3600,
        "privateFiles": True,
        "sourceUrl": "",
        "imprintUrl": "",
    }
    # Without JavaScript the page still says what this is and where the API docs are.
    noscript = page[page.index("<noscript>") : page.index("</noscript>")]
    assert "ISCC" in noscript
    assert "ISO 24138" in noscript
    assert 'href="/docs"' in noscript
    assert '<div id="app"></div>' in page


async def test_config_script_comes_before_the_app_bundle(make_app):
    _, _, page = await get_index(make_app())
    assert page.index("window.__ISCC_WEB__") < page.index('type="module"')


async def test_config_from_plugin_table_and_kernel_expiry(make_app):
    app = make_app(
        kernel={"storage_expiry": 600, "private_files": False},
        plugin={"ui": {"semantic_default": False, "source_url": "https://example.org/src"}},
    )
    _, _, page = await get_index(app)
    assert injected_config(page) == {
        "semanticDefault": False,
        "storageExpiry": 600,
        "privateFiles": False,
        "sourceUrl": "https://example.org/src",
        "imprintUrl": "",
    }


async def test_env_overrides_semantic_default(make_app):
    app = make_app(env={"ISCC_WEB_UI_SEMANTIC_DEFAULT": "false", "ISCC_WEB_STORAGE_EXPIRY": "7200"})
    _, _, page = await get_index(app)
    config = injected_config(page)
    assert (config["semanticDefault"], config["storageExpiry"]) == (False, 7200)


async def test_unknown_ui_setting_is_rejected(make_app):
    from kernel import ConfigError

    with pytest.raises(ConfigError, match="unknown key"):
        make_app(plugin={"ui": {"semantic_defualt": True}})


async def test_footer_links_from_env_and_only_http_urls(make_app):
    from kernel import ConfigError

    app = make_app(env={"ISCC_WEB_UI_IMPRINT_URL": "https://example.org/imprint"})
    _, _, page = await get_index(app)
    assert injected_config(page)["imprintUrl"] == "https://example.org/imprint"
    for bad in ("javascript:alert(1)", "/relative", 'https://x.org/"onmouseover="x'):
        with pytest.raises(ConfigError, match="source_url"):
            make_app(plugin={"ui": {"source_url": bad}})


def test_config_script_cannot_close_the_script_tag():
    script = ui_routes.config_script({"x": "</script><script>alert(1)</script>"})
    assert "</script>" not in script[: -len("</script>")]
    assert json.loads(
        script.removeprefix("<script>window.__ISCC_WEB__ = ").removesuffix(";</script>")
    ) == {"x": "</script><script>alert(1)</script>"}


async def test_assets_are_served_with_their_content_types(http):
    """Over a real server (the in-process test client is not used for file bodies)."""
    page = (await http.get("/")).text
    paths = asset_paths(page)
    kinds = {}
    for path in paths:
        response = await http.get(path)
        assert response.status_code == 200, path
        kinds[path.rsplit(".", 1)[-1]] = response.headers["Content-Type"]
        hashed = re.search(r"-[A-Za-z0-9_-]{8,}\.(js|css)$", path)
        expected_cache = "public, max-age=31536000, immutable" if hashed else "no-cache"
        assert response.headers["Cache-Control"] == expected_cache, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.content == (DIST / path.removeprefix("/")).read_bytes()
    assert "javascript" in kinds["js"]
    assert kinds["css"].startswith("text/css")
    assert kinds["svg"].startswith("image/svg+xml")


async def test_missing_asset_and_traversal_are_404(http):
    for path in (
        "/assets/nope.js",
        "/assets/../plugins.toml",
        "/assets/%2e%2e/index.html",
        "/assets/..%2f..%2f__init__.py",
    ):
        response = await http.get(path)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"] == "application/problem+json"


async def test_assets_revalidate_with_etags(client):
    page = await (await client.get("/")).get_data(as_text=True)
    for path in [*asset_paths(page), "/assets/iscc-icon.svg"]:
        first = await client.get(path)
        assert first.status_code == 200
        etag = first.headers["ETag"]
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert await again.get_data() == b""


async def test_disabled_ui_plugin_answers_404(make_app):
    app = make_app(kernel={"plugins": ["media", "explain"]})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        for path in ("/", "/assets/iscc-icon.svg"):
            response = await client.get(path)
            assert response.status_code == 404
            assert response.headers["Content-Type"] == "application/problem+json"


async def test_unbuilt_app_falls_back_to_a_plain_page(make_app, monkeypatch, tmp_path):
    monkeypatch.setattr(ui_routes, "DIST", tmp_path / "missing")
    _, _, page = await get_index(make_app())
    assert "ISCC" in page
    assert 'href="/docs"' in page
    assert injected_config(page)["semanticDefault"] is True


def test_built_app_ships_in_the_package():
    """The built app is committed and declared as package data (users need no Node.js)."""
    import tomllib

    assert (DIST / "index.html").is_file()
    assert ui_routes.PLACEHOLDER in (DIST / "index.html").read_text()
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    assert any("dist" in pattern for pattern in package_data.get("plugins.ui", []))
