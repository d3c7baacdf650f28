"""Endpoint group ``simprint``: granular text simprints for plain text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kernel import hookimpl
from plugins._processing.capabilities import semantic_modes
from plugins._processing.group import ProcessingGroup
from plugins._processing.settings import shared_processing
from plugins.simprint.settings import SECTION, SimprintSettings
from plugins.simprint.work import init_worker

if TYPE_CHECKING:
    from quart import Quart

group = ProcessingGroup(SECTION, SimprintSettings, "plugins.simprint.routes", init=init_worker)
register_settings = group.register_settings
worker_init = group.worker_init
register_blueprints = group.register_blueprints
openapi_spec = group.openapi_spec


@hookimpl
def status_report(app: Quart) -> Mapping[str, Any]:
    from kernel import runtime

    semantic = "text" in semantic_modes(shared_processing(runtime().settings).semantic_model_dir)
    types = ["CONTENT_TEXT_V0", "SEMANTIC_TEXT_V0"] if semantic else ["CONTENT_TEXT_V0"]
    return {SECTION: {"types": types}}
