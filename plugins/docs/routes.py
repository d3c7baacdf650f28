"""``/docs`` (Swagger UI, served from this package: no CDN) and ``/docs/openapi.yaml``.

The document is the app's merged OpenAPI spec: the contract of the groups this deployment
enables, plus whatever third-party plugins contribute.
"""

from __future__ import annotations

import html
from pathlib import Path

import yaml
from quart import Blueprint, Response, current_app, url_for

from kernel import runtime
from plugins._contract import contract

STATIC = Path(__file__).resolve().parent / "static"
#: Cache key of the rendered YAML on the app (one render per app; the spec is frozen).
_CACHE_KEY = "docs.openapi_yaml"

blueprint = Blueprint("docs", __name__, url_prefix="/docs", static_folder=str(STATIC),
                      static_url_path="/static")

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} - API Docs</title>
  <link rel="icon" type="image/png" href="{favicon}">
  <link rel="stylesheet" href="{css}">
  <style>body {{ margin: 0; }}</style>
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}" data-tag-order="{tag_order}"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""


def openapi_yaml() -> bytes:
    """The app's merged OpenAPI document as YAML, rendered once per app."""
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is None:
        text = yaml.safe_dump(runtime().openapi, sort_keys=False, allow_unicode=True, width=100)
        cached = current_app.extensions[_CACHE_KEY] = text.encode("utf-8")
    return cached


@blueprint.get("/openapi.yaml")
async def spec() -> Response:
    return Response(openapi_yaml(), content_type="application/yaml")


def tag_order() -> list[str]:
    """Tags in the contract's order (pluggy merges fragments last-registered first)."""
    order = [t["name"] for t in contract().get("tags", [])]
    served = [t["name"] for t in runtime().openapi.get("tags", [])]
    return [t for t in order if t in served] + [t for t in served if t not in order]


@blueprint.get("")
async def docs_page() -> Response:
    def asset(name: str) -> str:
        return html.escape(url_for("docs.static", filename=name))

    page = PAGE.format(
        title=html.escape(runtime().openapi["info"]["title"]),
        favicon=asset("favicon-32x32.png"),
        css=asset("swagger-ui.css"),
        bundle=asset("swagger-ui-bundle.js"),
        init=asset("docs.js"),
        spec=html.escape(url_for("docs.spec")),
        tag_order=html.escape(",".join(tag_order())),
    )
    return Response(page, content_type="text/html; charset=utf-8")
