"""Routes of the ``ui`` group: the app's HTML page at ``/`` and its hashed assets."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import trio
from quart import Blueprint, Response, request
from werkzeug.security import safe_join

from kernel import NotFound, get_settings, page_policy, plugin_settings

DIST = Path(__file__).resolve().parent / "dist"
ASSETS = DIST / "assets"
#: Where the server puts ``window.__ISCC_WEB__`` in the built ``index.html``.
PLACEHOLDER = "<!--iscc-web-config-->"
#: Hashed file names never change content; everything else is revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Assets the built page loads (``/assets/<name>-<hash>.<ext>``; Vite's 8-character hash is
#: base64url, so it may itself contain ``-`` or ``_``).
ASSET_REF = re.compile(r'(?:src|href)="/assets/([^"?#/]+)"')
VITE_HASH = re.compile(r"-[A-Za-z0-9_-]{8}$")

FALLBACK_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ISCC Generator - International Standard Content Code</title>
{config}
</head>
<body>
<h1>ISCC Generator</h1>
<p>This service generates ISCC codes (International Standard Content Code, ISO 24138) for media
files and texts, and explains and compares existing codes.</p>
<p>The web app has not been built in this installation (run <code>scripts/build-spa.sh</code>).
Everything it does is available through the REST API: see the
<a href="/docs">API documentation</a>.</p>
</body>
</html>
"""


def runtime_config() -> dict[str, Any]:
    """The configuration the app reads from ``window.__ISCC_WEB__``.

    The kernel's expiry and private-files settings make the page's privacy note true for this
    deployment; the footer links are the operator's.
    """
    ui = plugin_settings("ui")
    kernel = get_settings().kernel
    return {
        "semanticDefault": bool(ui.semantic_default),
        "storageExpiry": int(kernel.storage_expiry),
        "privateFiles": bool(kernel.private_files),
        "sourceUrl": ui.source_url,
        "imprintUrl": ui.imprint_url,
    }


def config_code(config: dict[str, Any]) -> str:
    """The inline code assigning ``config``; safe against ``</script>`` in values."""
    payload = json.dumps(config, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.__ISCC_WEB__ = {payload};"


def config_script(config: dict[str, Any]) -> str:
    """The ``<script>`` element the page carries (allowed by its hash in the page's CSP)."""
    return f"<script>{config_code(config)}</script>"


@lru_cache(maxsize=4)
def _template(path: Path, mtime_ns: int) -> str:
    return path.read_text(encoding="utf-8")


def render_index(config: dict[str, Any]) -> str:
    """The built ``index.html`` with the config injected (or a plain page if not built)."""
    index = DIST / "index.html"
    script = config_script(config)
    try:
        template = _template(index, index.stat().st_mtime_ns)
    except FileNotFoundError:
        return FALLBACK_PAGE.format(config=script)
    if PLACEHOLDER in template:
        return template.replace(PLACEHOLDER, script, 1)
    return template.replace("</head>", f"{script}\n</head>", 1)


def create_blueprint() -> Blueprint:
    """A fresh blueprint per app (routes read settings from the app handling the request)."""
    blueprint = Blueprint("ui", __name__)

    @blueprint.get("/")
    async def index() -> Response:
        """The app's page, with this deployment's runtime configuration."""
        config = runtime_config()
        response = Response(render_index(config), content_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Security-Policy"] = page_policy(scripts=[config_code(config)])
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @blueprint.get("/assets/<path:file_name>")
    async def asset(file_name: str) -> Response:
        """A built asset; hashed bundles are cached for a year, the rest revalidated."""
        body, content_type, etag = await trio.to_thread.run_sync(load_asset, file_name)
        response = Response(body, content_type=content_type)
        response.set_etag(etag)
        response.headers["Cache-Control"] = IMMUTABLE if _is_hashed(file_name) else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if etag in request.if_none_match:
            response.status_code = 304
            response.set_data(b"")
        return response

    return blueprint


def load_asset(file_name: str) -> tuple[bytes, str, str]:
    """Bytes, content type and ETag of a file under ``dist/assets`` (cached by mtime).

    Raises:
        NotFound: no such file, or a path that leaves the assets directory.
    """
    joined = safe_join(str(ASSETS), file_name)
    if joined is None:
        raise NotFound("Not found.")
    path = Path(joined)
    try:
        return _read_asset(path, path.stat().st_mtime_ns)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise NotFound("Not found.") from None


@lru_cache(maxsize=64)
def _read_asset(path: Path, mtime_ns: int) -> tuple[bytes, str, str]:
    body = path.read_bytes()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in ("image/svg+xml",):
        content_type += "; charset=utf-8"
    return body, content_type, hashlib.sha256(body).hexdigest()[:32]


def _is_hashed(file_name: str) -> bool:
    """Whether ``file_name`` is a content-hashed bundle of the built page (cacheable forever).

    Only names the built ``index.html`` loads and that end in a Vite hash count, so a file
    copied unhashed from ``spa/public`` (``iscc-icon.svg``) is always revalidated.
    """
    index = DIST / "index.html"
    try:
        return file_name in _hashed_assets(index, index.stat().st_mtime_ns)
    except FileNotFoundError:
        return False


@lru_cache(maxsize=4)
def _hashed_assets(path: Path, mtime_ns: int) -> frozenset[str]:
    names = ASSET_REF.findall(path.read_text(encoding="utf-8"))
    return frozenset(name for name in names if VITE_HASH.search(name.split(".", 1)[0]))
