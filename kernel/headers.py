"""Security headers on every answer, and the one strict policy pages are served under.

Every response gets ``X-Content-Type-Options: nosniff``, a ``Referrer-Policy`` and, unless a
route set its own, a Content-Security-Policy that forbids everything (an API answer is never a
document) including framing. HTML pages (the web app, the docs) set :func:`page_policy`: their
own origin only, inline code only by hash. ``204``/``304`` answers carry no ``Content-Type``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from quart import Quart, Response

#: For answers that are not pages: nothing may load, nothing may frame them.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
REFERRER_POLICY = "no-referrer"
#: Set on every answer unless a route set its own (lower-case name, name, value).
DEFAULTS = (
    ("x-content-type-options", "X-Content-Type-Options", "nosniff"),
    ("referrer-policy", "Referrer-Policy", REFERRER_POLICY),
    ("x-frame-options", "X-Frame-Options", "DENY"),
    ("content-security-policy", "Content-Security-Policy", API_POLICY),
)


def csp_hash(source: str) -> str:
    """The CSP source expression (``'sha256-…'``) allowing exactly this inline code."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def page_policy(*, scripts: Iterable[str] = (), styles: Iterable[str] = ()) -> str:
    """The policy of an HTML page served by the app: this origin only, never framed.

    Args:
        scripts: inline ``<script>`` bodies the page carries (allowed by hash, nothing else).
        styles: inline ``<style>`` bodies the page carries.
    """
    script_src = " ".join(["'self'", *(csp_hash(s) for s in scripts)])
    style_src = " ".join(["'self'", *(csp_hash(s) for s in styles)])
    return "; ".join([
        "default-src 'self'",
        f"script-src {script_src}",
        f"style-src {style_src}",
        "img-src 'self' data: blob:",  # thumbnails are data: URLs, previews object URLs
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def install_security_headers(app: Quart) -> None:
    """Add the headers to every answer (routes may set a stricter or page policy first)."""

    @app.after_request
    async def secure(response: Response) -> Response:
        headers = response.headers
        # one look at the names already set, then appends (each werkzeug setdefault or
        # ``in`` scans the whole list, and set rebuilds it)
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers
        for lower, name, value in DEFAULTS:
            if lower not in present:
                headers.add(name, value)
        if response.status_code in (204, 304):  # no content: nothing to describe
            headers.pop("Content-Type", None)
            if response.status_code == 204:
                headers.pop("Content-Length", None)
        return response
