"""Endpoint group ``explain``: decompose an ISCC into its units and representations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kernel import Settings, hookimpl
from plugins._contract import contract_fragment

if TYPE_CHECKING:
    from quart import Blueprint


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.explain.routes import blueprint

    return [blueprint]


@hookimpl
def openapi_spec(settings: Settings) -> dict:
    return contract_fragment("explain", settings)
