"""Endpoint group ``media``: upload, download and delete stored files."""

from collections.abc import Sequence

from quart import Blueprint

from kernel import Settings, hookimpl, spec_fragment


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.media.routes import blueprint

    return [blueprint]


@hookimpl
def openapi_spec(settings: Settings) -> dict:
    return spec_fragment("media", settings)
