"""Settings of the ``metadata`` group: ``[plugin.metadata]``, env ``ISCC_WEB_<FIELD>``."""

from __future__ import annotations

import attrs

from plugins._processing.settings import ProcessingSettings

#: This group's table in plugins.toml, ``[plugin.metadata]``.
SECTION = "metadata"

@attrs.frozen(kw_only=True)
class MetadataSettings(ProcessingSettings):
    """Metadata extraction/embedding settings (the processing fields, shared with ``iscc``).

    The JSON body limit of POST /metadata/{media_id} is the kernel's ``max_json_body``.
    """
