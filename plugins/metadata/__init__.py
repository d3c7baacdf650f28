"""Endpoint group ``metadata``: extract embedded metadata or embed new metadata into a copy."""

from __future__ import annotations

from plugins._processing.group import ProcessingGroup
from plugins.metadata.settings import SECTION, MetadataSettings

group = ProcessingGroup(SECTION, MetadataSettings, "plugins.metadata.routes")
register_settings = group.register_settings
worker_init = group.worker_init
register_blueprints = group.register_blueprints
openapi_spec = group.openapi_spec
