"""Settings of the ``metadata`` group: ``[plugin.metadata]``, env ``ISCC_WEB_<FIELD>``."""

from __future__ import annotations

import attrs

from plugins._processing.settings import ProcessingSettings


def _positive(instance: object, attribute: attrs.Attribute, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen(kw_only=True)
class MetadataSettings(ProcessingSettings):
    """Metadata extraction/embedding settings (processing fields shared with ``iscc``)."""

    #: Largest accepted JSON body of POST /metadata/{media_id}, in bytes.
    max_metadata_body: int = attrs.field(default=1_048_576, validator=_positive)
