"""Endpoint group ``simprint``: granular text simprints for plain text."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kernel import Settings, SettingsSpec, hookimpl
from plugins._contract import contract_fragment
from plugins._processing.capabilities import semantic_modes
from plugins._processing.settings import shared_processing
from plugins.simprint.settings import SECTION, SimprintSettings
from plugins.simprint.work import init_worker

if TYPE_CHECKING:
    from quart import Blueprint, Quart



@hookimpl
def register_settings() -> SettingsSpec:
    return SettingsSpec(SECTION, SimprintSettings, "ISCC_WEB_")


@hookimpl
def worker_init(settings: Settings) -> Callable[[], None]:
    return functools.partial(init_worker, shared_processing(settings).worker_config())


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.simprint.routes import blueprint

    return [blueprint]


@hookimpl
def openapi_spec(settings: Settings) -> dict:
    return contract_fragment(SECTION, settings)


@hookimpl
def status_report(app: Quart) -> Mapping[str, Any]:
    from kernel import runtime

    semantic = "text" in semantic_modes(shared_processing(runtime().settings).semantic_model_dir)
    types = ["CONTENT_TEXT_V0", "SEMANTIC_TEXT_V0"] if semantic else ["CONTENT_TEXT_V0"]
    return {SECTION: {"types": types}}
