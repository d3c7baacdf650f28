"""Endpoint group ``docs``: the served OpenAPI contract and interactive API docs at ``/docs``."""

from collections.abc import Sequence

from quart import Blueprint

from kernel import Settings, hookimpl


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.docs.routes import blueprint

    return [blueprint]
