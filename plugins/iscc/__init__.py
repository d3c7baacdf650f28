"""Endpoint group ``iscc``: create ISCC-CODEs from uploads and read stored results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kernel import hookimpl
from plugins._processing import capabilities
from plugins._processing.group import ProcessingGroup
from plugins._processing.settings import shared_processing
from plugins.iscc.settings import SECTION, IsccSettings

if TYPE_CHECKING:
    from quart import Quart

group = ProcessingGroup(SECTION, IsccSettings, "plugins.iscc.routes")
register_settings = group.register_settings
worker_init = group.worker_init
register_blueprints = group.register_blueprints
openapi_spec = group.openapi_spec


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
