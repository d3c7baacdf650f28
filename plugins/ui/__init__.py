"""Endpoint group ``ui``: the bundled single-page web app at ``/``.

Serves the Vite build in ``plugins/ui/dist`` (shipped inside the Python package, so no Node.js
is needed at run time) and injects the runtime configuration the app reads as
``window.__ISCC_WEB__``. Remove ``"ui"`` from ``[kernel] plugins`` for a headless deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from kernel import Settings, SettingsSpec, hookimpl

if TYPE_CHECKING:
    from quart import Blueprint


def _web_url(instance: object, attribute: attrs.Attribute, value: str) -> None:
    """Footer links must be absolute http(s) URLs (or empty for no link)."""
    if value and not value.startswith(("https://", "http://")):
        raise ValueError(f"{attribute.name} must be an http(s) URL or empty, not {value!r}")
    if any(ch in value for ch in "\"<> \t\r\n"):
        raise ValueError(f"{attribute.name} must be a plain URL without quotes, brackets or spaces")


@attrs.frozen(kw_only=True)
class UiSettings:
    """Settings of the web app: table ``[plugin.ui]``, env ``ISCC_WEB_UI_<NAME>``."""

    #: Initial state of the app's "Semantic code" toggle (``ISCC_WEB_UI_SEMANTIC_DEFAULT``).
    semantic_default: bool = True
    #: Footer link to this deployment's source code (``ISCC_WEB_UI_SOURCE_URL``; empty: none).
    source_url: str = attrs.field(default="", validator=_web_url)
    #: Footer link to the operator's imprint / legal notice (``ISCC_WEB_UI_IMPRINT_URL``).
    imprint_url: str = attrs.field(default="", validator=_web_url)


@hookimpl
def register_settings() -> SettingsSpec:
    """Declare ``[plugin.ui]`` (env ``ISCC_WEB_UI_*``)."""
    return SettingsSpec("ui", UiSettings, env_prefix="ISCC_WEB_UI_")


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    """Serve the app at ``/`` and its assets under ``/assets/``."""
    from plugins.ui.routes import create_blueprint

    return [create_blueprint()]
