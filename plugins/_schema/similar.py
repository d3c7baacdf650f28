"""The bodies of the ``similar`` group's operations (``/similar``, ``/index``) as attrs classes.

Same rules as :mod:`plugins._schema.models`; tests/test_openapi_models.py checks both.
Maps of open keys (unit types, simprint types) are ``dict`` fields.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
from attrs import validators as v

from plugins._schema.models import _iscc, _media_id, _optional

ISCC_ID_PATTERN = r"^ISCC:[A-Z2-7]{16}$"

_iscc_id: list[Any] = [v.matches_re(ISCC_ID_PATTERN)]
_share: list[Any] = [v.ge(0), v.le(1)]
_count: list[Any] = [v.ge(0)]


@attrs.frozen(kw_only=True)
class EntryMetadata:
    """What an adder chose to publish with an index entry."""

    name: str | None = attrs.field(default=None, validator=_optional(v.max_len(128)))
    description: str | None = attrs.field(default=None, validator=_optional(v.max_len(4096)))
    ref: str | None = attrs.field(default=None, validator=_optional(v.max_len(2048)))


@attrs.frozen(kw_only=True)
class Match:
    """An entry whose ISCC-UNITs are similar to the query's."""

    iscc_id: str = attrs.field(validator=_iscc_id)
    score: float = attrs.field(validator=_share)
    types: dict[str, float]
    metadata: EntryMetadata | None = None


@attrs.frozen(kw_only=True)
class MatchedChunk:
    """One query simprint and the indexed chunk it matched."""

    query: str
    match: str
    score: float = attrs.field(validator=_share)
    freq: int = attrs.field(validator=v.ge(1))
    offset: int = attrs.field(validator=_count)
    size: int = attrs.field(validator=_count)


@attrs.frozen(kw_only=True)
class ChunkTypeMatch:
    """Chunk match figures of one simprint type."""

    score: float = attrs.field(validator=_share)
    matches: int = attrs.field(validator=_count)
    queried: int = attrs.field(validator=_count)
    chunks: list[MatchedChunk] | None = None


@attrs.frozen(kw_only=True)
class ChunkMatch:
    """An entry that shares granular chunks with the query."""

    iscc_id: str = attrs.field(validator=_iscc_id)
    score: float = attrs.field(validator=_share)
    types: dict[str, ChunkTypeMatch]
    metadata: EntryMetadata | None = None


@attrs.frozen(kw_only=True)
class SimilarMatches:
    """POST /similar/query answer."""

    matches: list[Match]
    chunk_matches: list[ChunkMatch]


@attrs.frozen(kw_only=True)
class SimilarResult:
    """POST /similar answer: the upload's codes, its matches, the id it was added under."""

    iscc: str = attrs.field(validator=_iscc)
    units: list[str]
    matches: list[Match]
    chunk_matches: list[ChunkMatch]
    iscc_id: str | None = attrs.field(validator=_optional(*_iscc_id))


@attrs.frozen(kw_only=True)
class SimilarQuery:
    """POST /similar/query body (the codes are checked further by the route)."""

    iscc_code: str | None = None
    units: list[str] | None = None
    simprints: dict[str, list[str]] | None = None


@attrs.frozen(kw_only=True)
class IndexAddRequest:
    """POST /index body."""

    media_id: str = attrs.field(validator=_media_id)
    metadata: EntryMetadata | None = None


@attrs.frozen(kw_only=True)
class IndexAdded:
    """POST /index answer."""

    iscc_id: str = attrs.field(validator=_iscc_id)


@attrs.frozen(kw_only=True)
class IndexStatistics:
    """GET /index answer."""

    name: str
    backend: Literal["usearch", "lmdb", "remote"]
    entries: int = attrs.field(validator=_count)
    size_mb: int = attrs.field(validator=_count)


@attrs.frozen(kw_only=True)
class IndexedSimprint:
    """A simprint as stored with an entry, with its chunk's position."""

    simprint: str
    offset: int = attrs.field(validator=_count)
    size: int = attrs.field(validator=_count)


@attrs.frozen(kw_only=True)
class IndexEntry:
    """GET /index/{iscc_id} answer: exactly what the index holds for an entry."""

    iscc_id: str = attrs.field(validator=_iscc_id)
    iscc_code: str | None = None
    units: list[str] | None = None
    simprints: dict[str, list[IndexedSimprint]] | None = None
    metadata: EntryMetadata | None = None


SIMILAR_SCHEMAS: dict[str, type] = {
    "EntryMetadata": EntryMetadata,
    "Match": Match,
    "MatchedChunk": MatchedChunk,
    "ChunkTypeMatch": ChunkTypeMatch,
    "ChunkMatch": ChunkMatch,
    "SimilarMatches": SimilarMatches,
    "SimilarResult": SimilarResult,
    "SimilarQuery": SimilarQuery,
    "IndexAddRequest": IndexAddRequest,
    "IndexAdded": IndexAdded,
    "IndexStatistics": IndexStatistics,
    "IndexedSimprint": IndexedSimprint,
    "IndexEntry": IndexEntry,
}
