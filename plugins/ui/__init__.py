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


@attrs.frozen(kw_only=True)
class UiSettings:
    """Settings of the web app: table ``[plugin.ui]``, env ``ISCC_WEB_UI_<NAME>``."""

    #: Initial state of the app's "Semantic code" toggle (``ISCC_WEB_UI_SEMANTIC_DEFAULT``).
    semantic_default: bool = True


@hookimpl
def register_settings() -> SettingsSpec:
    """Declare ``[plugin.ui]`` (env ``ISCC_WEB_UI_*``)."""
    return SettingsSpec("ui", UiSettings, env_prefix="ISCC_WEB_UI_")


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    """Serve the app at ``/`` and its assets under ``/assets/``."""
    from plugins.ui.routes import create_blueprint

    return [create_blueprint()]
