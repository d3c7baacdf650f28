"""Settings of the ``iscc`` group: ``[plugin.iscc]`` in plugins.toml, env ``ISCC_WEB_<FIELD>``."""

from __future__ import annotations

import attrs

from plugins._processing.settings import ProcessingSettings

#: This group's table in plugins.toml, ``[plugin.iscc]``.
SECTION = "iscc"

@attrs.frozen(kw_only=True)
class IsccSettings(ProcessingSettings):
    """ISCC generation settings (the processing fields are shared with metadata/simprint)."""

    #: Semantic-Code unit when POST /iscc omits ``semantic`` (ISCC_WEB_SEMANTIC_DEFAULT).
    semantic_default: bool = False
    #: With ``semantic=true`` and no model for the file's mode, answer the standard code with
    #: a ``Warning`` header and ``"semantic": false`` instead of 422 (ISCC_WEB_SEMANTIC_FALLBACK).
    semantic_fallback: bool = False
