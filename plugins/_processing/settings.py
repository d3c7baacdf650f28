"""Settings every processing plugin shares (tool locations, semantic model directory)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from kernel import Settings

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
    #: Largest image (width x height) a job decodes; larger ones answer 422. 0: iscc-sdk's.
    image_max_pixels: int = attrs.field(default=100_000_000, validator=attrs.validators.ge(0))
    #: Largest inflated size of one archive entry a job reads (EPUB/DOCX parts), in bytes.
    max_archive_entry: int = attrs.field(default=268_435_456, validator=attrs.validators.ge(0))

    def worker_config(self) -> dict[str, Any]:
        """The plain, picklable form handed to worker processes."""
        return {
            "semantic_model_dir": self.semantic_model_dir,
            "image_max_pixels": self.image_max_pixels,
            "max_archive_entry": self.max_archive_entry,
            "tools": {
                "ffmpeg": self.ffmpeg_path,
                "ffprobe": self.ffprobe_path,
                "fpcalc": self.fpcalc_path,
            },
        }


def shared_processing(settings: Settings) -> ProcessingSettings:
    """The one processing configuration of every enabled group that declares these fields.

    The processing groups (``iscc``, ``metadata``, ``simprint``, ...) run in one shared worker
    pool, so a tool path or model directory can only have one value. Each field may be set in
    any of their tables (or once through ``ISCC_WEB_<FIELD>``, which reaches them all); a
    value left at its default takes the one set elsewhere.

    Raises:
        ConfigError: two tables set one field to different values.
    """
    from kernel import ConfigError

    defaults = ProcessingSettings()
    chosen: dict[str, tuple[str, Any]] = {}
    for section, own in settings.plugin.items():
        for field in attrs.fields(ProcessingSettings):
            value = getattr(own, field.name, getattr(defaults, field.name))
            if value == getattr(defaults, field.name):
                continue
            if field.name in chosen and chosen[field.name][1] != value:
                first = chosen[field.name][0]
                raise ConfigError(
                    f"[plugin.{first}] and [plugin.{section}] set {field.name} to different "
                    f"values ({chosen[field.name][1]!r}, {value!r}); the processing groups "
                    "share one worker pool: give it one value"
                )
            chosen.setdefault(field.name, (section, value))
    return attrs.evolve(defaults, **{name: value for name, (_, value) in chosen.items()})
