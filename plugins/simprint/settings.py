"""Settings of the ``simprint`` group: ``[plugin.simprint]``, env ``ISCC_WEB_<FIELD>``."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class SimprintSettings:
    """Simprint settings (the semantic model directory is shared with ``iscc``)."""

    #: Directory holding the semantic ONNX models; empty: content simprints only.
    semantic_model_dir: str = ""
