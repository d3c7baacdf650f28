"""Endpoint group ``docs``: the served OpenAPI contract and interactive API docs at ``/docs``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kernel import Settings, hookimpl

if TYPE_CHECKING:
    from quart import Blueprint


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.docs.routes import blueprint

    return [blueprint]
