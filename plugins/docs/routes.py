"""``/docs`` (Swagger UI, served from this package: no CDN) and ``/docs/openapi.yaml``.

The document is the app's merged OpenAPI spec: the contract of the groups this deployment
enables, plus whatever third-party plugins contribute.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import yaml
from quart import Blueprint, Response, current_app, url_for

from kernel import page_policy, runtime
from plugins._contract import contract

STATIC = Path(__file__).resolve().parent / "static"
#: Cache key of the rendered YAML on the app (one render per app; the spec is frozen).
_CACHE_KEY = "docs.openapi_yaml"

#: The page's only inline code (allowed by its hash in the page's CSP).
STYLE = "body { margin: 0; }"

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
  <style>{style}</style>
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}" data-tag-order="{tag_order}"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""


def in_contract_order(document: dict[str, Any]) -> dict[str, Any]:
    """The document with tags and paths in the order of ``openapi.yaml`` (others after).

    Fragments are merged in plugin order (pluggy calls the last registered first); the served
    document reads like the contract whatever that order is.
    """
    source = contract()
    tags = {t["name"]: i for i, t in enumerate(source.get("tags", []))}
    paths = {p: i for i, p in enumerate(source.get("paths", {}))}
    ordered = dict(document)
    if "tags" in ordered:
        ordered["tags"] = sorted(ordered["tags"], key=lambda t: tags.get(t["name"], len(tags)))
    ordered["paths"] = dict(sorted(ordered.get("paths", {}).items(),
                                   key=lambda item: paths.get(item[0], len(paths))))
    return ordered


def openapi_yaml() -> bytes:
    """The app's merged OpenAPI document as YAML, rendered once per app."""
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is None:
        text = yaml.safe_dump(in_contract_order(runtime().openapi), sort_keys=False,
                              allow_unicode=True, width=100)
        cached = current_app.extensions[_CACHE_KEY] = text.encode("utf-8")
    return cached


@blueprint.get("/openapi.yaml")
async def spec() -> Response:
    return Response(openapi_yaml(), content_type="application/yaml")


def tag_order() -> list[str]:
    """Tags in the contract's order (as the served document lists them)."""
    return [t["name"] for t in in_contract_order(runtime().openapi).get("tags", [])]


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
        style=STYLE,
    )
    response = Response(page, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = page_policy(styles=[STYLE])
    return response
