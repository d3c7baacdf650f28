"""The request and response bodies of openapi.yaml as frozen attrs classes.

Field names are the JSON names, except where JSON uses a character Python cannot
(``@context`` -> ``context``): such fields carry their JSON name in ``metadata["json"]``.
A field without a default is one the schema marks ``required``; validators carry the
schema's ``minLength``/``maxLength``/``pattern``/``minimum``/``maximum``.
tests/test_openapi_models.py fails when a class and its schema drift apart.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
from attrs import validators as v

from kernel import MEDIA_ID

MEDIA_ID_PATTERN = f"^{MEDIA_ID.pattern}$"
ISCC_PATTERN = r"^ISCC:[A-Z2-7]{10,73}$"
#: An absolute URL: a scheme, ``//``, a host (or a bracketed IPv6 address), no white space.
ABSOLUTE_URL_PATTERN = (r"^[A-Za-z][A-Za-z0-9+.-]*://(\[[0-9A-Fa-f:.]+\]|[^\s/?#\[\]]+)(:[0-9]*)?"
                        r"([/?#]\S*)?$")

_media_id: list[Any] = [v.min_len(13), v.max_len(13), v.matches_re(MEDIA_ID_PATTERN)]
_iscc: list[Any] = [v.min_len(15), v.max_len(73), v.matches_re(ISCC_PATTERN)]


def _optional(*validators: Any) -> Any:
    return v.optional(v.and_(*validators))



def _json(name: str) -> dict[str, str]:
    return {"json": name}


@attrs.frozen(kw_only=True)
class Problem:
    """An RFC 9457 problem detail: the body of every error response."""

    type: str
    title: str
    status: int = attrs.field(validator=[v.ge(400), v.le(599)])
    detail: str


@attrs.frozen(kw_only=True)
class UploadResponse:
    """POST /media: where the stored file is."""

    content: str
    media_id: str = attrs.field(validator=_media_id)


@attrs.frozen(kw_only=True)
class InlineMetadata:
    """Metadata that can be embedded in a file (POST /metadata body, GET /metadata answer)."""

    name: str | None = attrs.field(default=None, validator=_optional(v.max_len(128)))
    description: str | None = attrs.field(default=None, validator=_optional(v.max_len(4096)))
    meta: str | None = attrs.field(default=None, validator=_optional(v.max_len(16384)))
    identifier: str | None = None
    creator: str | None = None
    license: str | None = None
    acquire: str | None = attrs.field(
        default=None,
        validator=_optional(v.min_len(1), v.max_len(2083), v.matches_re(ABSOLUTE_URL_PATTERN)))
    credit: str | None = None
    rights: str | None = None
    keywords: str | list[str] | None = None


@attrs.frozen(kw_only=True)
class FeatureSet:
    """Granular features of one kind (e.g. content/text simprints with offsets and sizes)."""

    maintype: str | None = None
    subtype: str | None = None
    version: int | None = None
    byte_offsets: bool | None = None
    simprints: list[str] | None = None
    offsets: list[int] | None = None
    sizes: list[int] | None = None


@attrs.frozen(kw_only=True)
class IsccResult(InlineMetadata):
    """An ISCC result as stored (GET /iscc/{media_id}): no ``media_id``/``content``."""

    iscc: str = attrs.field(validator=_iscc)
    filename: str
    filesize: int
    mediatype: str
    generator: str
    datahash: str
    units: list[str]
    context: str | None = attrs.field(default=None, metadata=_json("@context"))
    type_: (
        Literal["CreativeWork", "TextDigitalDocument", "ImageObject", "AudioObject",
                "VideoObject"] | None
    ) = attrs.field(default=None, metadata=_json("@type"))
    schema: str | None = attrs.field(default=None, metadata=_json("$schema"))
    mode: Literal["text", "image", "audio", "video", "mixed"] | None = None
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    characters: int | None = None
    language: str | None = None
    thumbnail: str | None = None
    metahash: str | None = None
    features: list[FeatureSet] | None = None


@attrs.frozen(kw_only=True)
class IsccMetadata(IsccResult):
    """POST /iscc and POST /metadata/{media_id}: the result plus where the file is stored."""

    content: str
    media_id: str = attrs.field(validator=_media_id)


@attrs.frozen(kw_only=True)
class Unit:
    """One ISCC-UNIT of an explained ISCC."""

    iscc_unit: str = attrs.field(validator=_iscc)
    readable: str
    hash_hex: str
    hash_uint: str
    hash_bits: str


@attrs.frozen(kw_only=True)
class IsccDetail:
    """GET /explain/{iscc}: an ISCC decomposed into units and representations."""

    iscc: str = attrs.field(validator=_iscc)
    readable: str
    multiformat: str
    decomposed: str
    units: list[Unit]


@attrs.frozen(kw_only=True)
class SimprintRequest:
    """POST /simprint body."""

    text: str = attrs.field(validator=v.min_len(1))


@attrs.frozen(kw_only=True)
class SimprintResponse:
    """POST /simprint answer: simprints by type."""

    CONTENT_TEXT_V0: list[str]
    SEMANTIC_TEXT_V0: list[str] | None = None


@attrs.frozen(kw_only=True)
class PluginInfo:
    """One plugin (or kernel module) in GET /-/status."""

    name: str
    version: str | None = None  # only for status_networks
    hooks: list[str] | None = None


_count: list[Any] = [v.ge(0)]


@attrs.frozen(kw_only=True)
class WorkerStatistics:
    """Worker pool figures in GET /-/status."""

    idle: int = attrs.field(validator=_count)
    running: int = attrs.field(validator=_count)
    queued: int = attrs.field(validator=_count)
    backend: str | None = None
    max_queue: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))
    completed: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))
    crashed: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))
    timed_out: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))
    rejected: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))


@attrs.frozen(kw_only=True)
class StorageStatistics:
    """Storage figures in GET /-/status."""

    packages: int = attrs.field(validator=_count)
    bytes: int = attrs.field(validator=_count)
    backend: str | None = None


JOB_ID_PATTERN = r"^[a-v0-9]{26}$"
JobStatus = Literal["queued", "processing", "done", "failed"]


@attrs.frozen(kw_only=True)
class JobStatistics:
    """Asynchronous jobs of one instance in GET /-/status."""

    queued: int = attrs.field(validator=_count)
    processing: int = attrs.field(validator=_count)
    concurrency: int | None = attrs.field(default=None, validator=v.optional(v.ge(1)))
    max_queue: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))
    completed: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))
    failed: int | None = attrs.field(default=None, validator=v.optional(v.ge(0)))


@attrs.frozen(kw_only=True)
class Status:
    """GET /-/status (plugins may add sections of their own; those are not modelled)."""

    version: str
    plugins: list[PluginInfo]
    # only for status_networks:
    kernel: list[PluginInfo] | None = None
    workers: WorkerStatistics | None = None
    storage: StorageStatistics | None = None
    jobs: JobStatistics | None = None


@attrs.frozen(kw_only=True)
class JobAccepted:
    """The 202 answer of ``Prefer: respond-async``."""

    job_id: str = attrs.field(validator=v.matches_re(JOB_ID_PATTERN))
    status: JobStatus
    media_id: str = attrs.field(validator=_media_id)


@attrs.frozen(kw_only=True)
class Job:
    """GET /jobs/{job_id}, and each of its events."""

    job_id: str = attrs.field(validator=v.matches_re(JOB_ID_PATTERN))
    media_id: str = attrs.field(validator=_media_id)
    status: JobStatus
    phase: str
    queued_ahead: int = attrs.field(validator=_count)
    elapsed_s: float = attrs.field(validator=_count)
    result: dict[str, Any] | None = None
    error: Problem | None = None


@attrs.frozen(kw_only=True)
class Health:
    """GET /healthz."""

    status: Literal["ok"]


@attrs.frozen(kw_only=True)
class Readiness:
    """GET /readyz while the instance is ready (otherwise a 503 :class:`Problem`)."""

    status: Literal["ready"]
    storage: Literal["ok"]
    workers: Literal["ok"]


#: The schema in openapi.yaml (``components.schemas``) each class stands for.
SCHEMAS: dict[str, type] = {
    "Problem": Problem,
    "UploadResponse": UploadResponse,
    "InlineMetadata": InlineMetadata,
    "FeatureSet": FeatureSet,
    "IsccResult": IsccResult,
    "IsccMetadata": IsccMetadata,
    "Unit": Unit,
    "IsccDetail": IsccDetail,
    "SimprintRequest": SimprintRequest,
    "SimprintResponse": SimprintResponse,
    "PluginInfo": PluginInfo,
    "WorkerStatistics": WorkerStatistics,
    "StorageStatistics": StorageStatistics,
    "Status": Status,
    "JobStatistics": JobStatistics,
    "JobAccepted": JobAccepted,
    "Job": Job,
    "Health": Health,
    "Readiness": Readiness,
}
