"""CORS for the API when ``cors_origins`` is set: the incumbent's exact behaviour."""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import Quart, Response, request

from kernel.errors import problem_response

ALLOW_METHODS = "GET, POST, DELETE"
ALLOW_HEADERS = "Content-Type, X-Upload-Filename"
#: Lower case, as the incumbent sends it (header names are case-insensitive; clients compare).
EXPOSE_HEADERS = "location, content-disposition"
MAX_AGE = "300"


def site_origin(site_address: str) -> str:
    """``scheme://host[:port]`` of the site address, default ports omitted."""
    parts = urlsplit(site_address)
    host = parts.hostname or "localhost"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


def install_cors(app: Quart, cors_origins: str, site_address: str) -> None:
    """Answer preflights and decorate responses; does nothing when ``cors_origins`` is empty."""
    configured = [o for o in cors_origins.replace(",", " ").split() if o]
    if not configured:
        return
    allowed = set(configured) | {site_origin(site_address)}
    allow_any = "*" in allowed

    def allow_origin(origin: str) -> str | None:
        if origin in allowed:
            return origin
        return "*" if allow_any else None

    @app.before_request
    async def preflight() -> Response | None:
        origin = request.headers.get("Origin")
        if request.method != "OPTIONS" or not origin:
            return None
        if "Access-Control-Request-Method" not in request.headers:
            return None
        granted = allow_origin(origin)
        if granted is None:
            return problem_response(400, "Origin not allowed.")
        response = Response("", status=200)
        response.headers["Access-Control-Allow-Origin"] = granted
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = MAX_AGE
        response.headers["Vary"] = "Origin"
        return response

    @app.after_request
    async def decorate(response: Response) -> Response:
        origin = request.headers.get("Origin")
        granted = allow_origin(origin) if origin else None
        if granted and "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = granted
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            response.headers.add("Vary", "Origin")
        return response
