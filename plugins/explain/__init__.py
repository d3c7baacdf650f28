"""Endpoint group ``explain``: decompose an ISCC into its units and representations."""

from collections.abc import Sequence

from quart import Blueprint

from kernel import Settings, hookimpl, spec_fragment


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.explain.routes import blueprint

    return [blueprint]


@hookimpl
def openapi_spec(settings: Settings) -> dict:
    return spec_fragment("explain", settings)
