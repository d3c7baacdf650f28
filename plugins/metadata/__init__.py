"""Endpoint group ``metadata``: extract embedded metadata or embed new metadata into a copy."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kernel import Settings, SettingsSpec, hookimpl
from plugins._contract import contract_fragment
from plugins._processing.settings import shared_processing
from plugins._processing.work import init_worker
from plugins.metadata.settings import SECTION, MetadataSettings

if TYPE_CHECKING:
    from quart import Blueprint



@hookimpl
def register_settings() -> SettingsSpec:
    return SettingsSpec(SECTION, MetadataSettings, "ISCC_WEB_")


@hookimpl
def worker_init(settings: Settings) -> Callable[[], None]:
    return functools.partial(init_worker, shared_processing(settings).worker_config())


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.metadata.routes import blueprint

    return [blueprint]


@hookimpl
def openapi_spec(settings: Settings) -> dict:
    return contract_fragment(SECTION, settings)
