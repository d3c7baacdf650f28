"""Endpoint group ``iscc``: create ISCC-CODEs from uploads and read stored results."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kernel import Settings, SettingsSpec, hookimpl
from plugins._contract import contract_fragment
from plugins._processing import capabilities
from plugins._processing.settings import shared_processing
from plugins._processing.work import init_worker
from plugins.iscc.settings import SECTION, IsccSettings

if TYPE_CHECKING:
    from quart import Blueprint, Quart



@hookimpl
def register_settings() -> SettingsSpec:
    return SettingsSpec(SECTION, IsccSettings, "ISCC_WEB_")


@hookimpl
def worker_init(settings: Settings) -> Callable[[], None]:
    return functools.partial(init_worker, shared_processing(settings).worker_config())


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    from plugins.iscc.routes import blueprint

    return [blueprint]


@hookimpl
def openapi_spec(settings: Settings) -> dict:
    return contract_fragment(SECTION, settings)


@hookimpl
def status_report(app: Quart, private: bool) -> Mapping[str, Any]:
    from kernel import runtime

    own: IsccSettings = runtime().settings.of(SECTION)
    processing = shared_processing(runtime().settings)
    report = capabilities.report(processing.worker_config()["tools"],
                                 processing.semantic_model_dir)
    report["semantic_default"] = own.semantic_default
    if not private:  # library and tool versions are for the operator (status_networks)
        report.pop("versions", None)
    return {SECTION: report}
