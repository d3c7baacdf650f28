"""Settings of the ``simprint`` group: ``[plugin.simprint]``, env ``ISCC_WEB_<FIELD>``."""

from __future__ import annotations

import attrs

#: This group's table in plugins.toml, ``[plugin.simprint]``.
SECTION = "simprint"

@attrs.frozen(kw_only=True)
class SimprintSettings:
    """Simprint settings (the semantic model directory is shared with ``iscc``)."""

    #: Directory holding the semantic ONNX models; empty: content simprints only.
    semantic_model_dir: str = ""
    #: Longest accepted text in characters (iscc-sdk's own text cap); longer answers 400.
    max_text_chars: int = attrs.field(default=10_000_000, validator=attrs.validators.gt(0))
