"""Settings every processing plugin shares (tool locations, semantic model directory)."""

from __future__ import annotations

from typing import Any

import attrs

#: Library defaults applied in worker processes before iscc-sdk/-sct/-sci are imported
#: (CONTRACT §4.2). Values already in the environment win.
LIBRARY_DEFAULTS: dict[str, str] = {
    "ISCC_SDK_EXPERIMENTAL": "false",
    "ISCC_SDK_GRANULAR": "true",
    "ISCC_SDK_BYTE_OFFSETS": "true",
    "ISCC_SDK_ADD_UNITS": "true",
    "ISCC_SDK_BITS": "256",
    "ISCC_SDK_WIDE": "true",
    "ISCC_SDK_FALLBACK": "true",
    "ISCC_SCT_BITS": "256",
    "ISCC_SCT_BITS_GRANULAR": "256",
    "ISCC_SCT_SIMPRINTS": "true",
    "ISCC_SCT_OFFSETS": "true",
    "ISCC_SCT_SIZES": "true",
    "ISCC_SCT_BYTE_OFFSETS": "true",
    "ISCC_SCI_BITS": "256",
}


@attrs.frozen(kw_only=True)
class ProcessingSettings:
    """Where the worker finds its external tools and models (env ``ISCC_WEB_<FIELD>``)."""

    #: Directory holding the semantic ONNX models; empty disables semantic codes.
    semantic_model_dir: str = ""
    #: ffmpeg executable (path or name looked up on PATH).
    ffmpeg_path: str = "ffmpeg"
    #: ffprobe executable (path or name looked up on PATH).
    ffprobe_path: str = "ffprobe"
    #: Chromaprint fpcalc executable (path or name looked up on PATH).
    fpcalc_path: str = "fpcalc"

    def worker_config(self) -> dict[str, Any]:
        """The plain, picklable form handed to worker processes."""
        return {
            "semantic_model_dir": self.semantic_model_dir,
            "tools": {
                "ffmpeg": self.ffmpeg_path,
                "ffprobe": self.ffprobe_path,
                "fpcalc": self.fpcalc_path,
            },
        }
