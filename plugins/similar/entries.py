"""Between this service's bodies and iscc-search's models: entries, queries and matches.

Entries carry codes, simprints and only the metadata an adder published (``name``,
``description``, ``ref``): never a media id, never an owner hash. Client codes are checked
here so that a malformed one is a 400 naming its field, not an error deep in the index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from kernel import BadRequest
from plugins._schema.similar import (
    ChunkMatch,
    ChunkTypeMatch,
    EntryMetadata,
    IndexedSimprint,
    IndexEntry,
    Match,
    MatchedChunk,
    SimilarQuery,
)

if TYPE_CHECKING:
    from iscc_search.schema import IsccEntry, IsccQuery, IsccSearchResult

#: ISCC-UNIT main types a query may carry (ISCC-IDs and composite codes are not units).
UNIT_TYPES = ("META", "SEMANTIC", "CONTENT", "DATA", "INSTANCE")
SIMPRINT_TYPE = re.compile(r"^[A-Z]+_[A-Z]+_V[0-9]+$")
BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")
ISCC_TEXT = re.compile(r"^ISCC:[A-Z2-7]{16,}$")
#: Most units and simprints one query may carry.
MAX_UNITS = 16
MAX_SIMPRINTS = 8192
PUBLISHED = ("name", "description", "ref")


# --- codes from clients -----------------------------------------------------------------


def _canonical(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"'{field}' must be a string.")
    text = value.strip()
    text = text if text.startswith("ISCC:") else f"ISCC:{text}"
    if not ISCC_TEXT.match(text):
        raise BadRequest(f"'{field}' is not an ISCC (base32, optionally prefixed 'ISCC:').")
    return text


def _main_type(text: str, field: str) -> str:
    import iscc_core as ic

    try:
        ic.iscc_validate(text, strict=True)
        return ic.MT(ic.decode_header(ic.decode_base32(text[5:]))[0]).name
    except (ValueError, KeyError, IndexError) as exc:
        raise BadRequest(f"'{field}' is not a valid ISCC: {exc}") from None


def check_unit(value: Any, field: str) -> str:
    """An ISCC-UNIT in canonical form, or 400 naming ``field``."""
    text = _canonical(value, field)
    if _main_type(text, field) not in UNIT_TYPES:
        raise BadRequest(f"'{field}' is not an ISCC-UNIT.")
    return text


def check_code(value: Any, field: str = "iscc_code") -> list[str]:
    """The units of an ISCC-CODE (iscc-search's decomposition), or 400 naming ``field``."""
    from iscc_search.models import IsccCode

    text = _canonical(value, field)
    if _main_type(text, field) != "ISCC":
        raise BadRequest(f"'{field}' is not an ISCC-CODE.")
    try:
        return [str(unit) for unit in IsccCode(text).units]
    except (ValueError, KeyError, IndexError):
        raise BadRequest(f"'{field}' is not a valid ISCC-CODE.") from None


def check_iscc_id(value: str) -> str:
    """An ISCC-ID in canonical form, or 400."""
    text = _canonical(value, "iscc_id")
    if _main_type(text, "iscc_id") != "ID":
        raise BadRequest("'iscc_id' is not an ISCC-ID.")
    return text


def _check_simprints(groups: Mapping[str, Sequence[Any]]) -> dict[str, list[str]]:
    import iscc_core as ic

    checked: dict[str, list[str]] = {}
    total = 0
    for kind, simprints in groups.items():
        field = f"simprints.{kind}"
        if not SIMPRINT_TYPE.match(kind):
            raise BadRequest(f"'{field}': a simprint type looks like CONTENT_TEXT_V0.")
        if not simprints:
            raise BadRequest(f"'{field}' must not be empty.")
        total += len(simprints)
        if total > MAX_SIMPRINTS:
            raise BadRequest(f"'simprints' may hold at most {MAX_SIMPRINTS} simprints.")
        for i, simprint in enumerate(simprints):
            if not BASE64URL.match(simprint):
                raise BadRequest(f"'{field}[{i}]' is not base64url.")
            try:
                size = len(ic.decode_base64(simprint))
            except ValueError:
                raise BadRequest(f"'{field}[{i}]' is not base64url.") from None
            if size not in (8, 16, 24, 32):
                raise BadRequest(f"'{field}[{i}]' must be a 64- to 256-bit simprint.")
        checked[kind] = list(simprints)
    return checked


def index_units(units: Sequence[str], meta_unit: bool) -> list[str]:
    """The units that go into the index and into queries (the Meta unit only when enabled)."""
    import iscc_core as ic

    if meta_unit:
        return list(units)
    meta = int(ic.MT.META)
    return [u for u in units if ic.decode_header(ic.decode_base32(u[5:]))[0] != meta]


def _shape(body: Mapping[str, Any]) -> SimilarQuery:
    """The query body's JSON types, checked strictly (no list from an object, no nulls)."""
    units, simprints = body.get("units"), body.get("simprints")
    if units is not None and not isinstance(units, list):
        raise BadRequest("'units' must be an array of ISCC-UNITs.")
    if simprints is not None and (not isinstance(simprints, dict) or not all(
            isinstance(v, list) for v in simprints.values())):
        raise BadRequest("'simprints' must be an object of arrays (simprints by type).")
    for kind, items in (simprints or {}).items():
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise BadRequest(f"'simprints.{kind}[{i}]' must be a string.")
    return SimilarQuery(iscc_code=body.get("iscc_code"), units=units, simprints=simprints)


def query_of_body(raw: Mapping[str, Any], meta_unit: bool) -> IsccQuery | None:
    """The iscc-search query for POST /similar/query; ``None`` when nothing is left to search.

    Raises:
        BadRequest: no code given, or a malformed one (the detail names the field).
    """
    from iscc_search.schema import IsccQuery

    body = _shape(raw)
    if body.iscc_code is None and not body.units and not body.simprints:
        raise BadRequest("Give at least one of 'iscc_code', 'units' or 'simprints'.")
    if body.units is not None and len(body.units) > MAX_UNITS:
        raise BadRequest(f"'units' may hold at most {MAX_UNITS} units.")
    units = [check_unit(u, f"units[{i}]") for i, u in enumerate(body.units or [])]
    if body.iscc_code is not None:
        units += [u for u in check_code(body.iscc_code) if u not in units]
    simprints = _check_simprints(body.simprints or {})
    units = index_units(units, meta_unit)
    if not units and not simprints:
        return None
    return IsccQuery(units=units or None, simprints=simprints or None)


# --- codes from our own processing ------------------------------------------------------


def _simprints_of(result: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]] | None:
    """iscc-search's own conversion of an ISCC result's granular ``features``."""
    from iscc_search.cli.common import parse_simprints_from_features

    return parse_simprints_from_features(result.get("features") or [])


def query_of_result(result: Mapping[str, Any], meta_unit: bool) -> IsccQuery | None:
    """The query for an upload's ISCC result (its units and granular simprints)."""
    from iscc_search.schema import IsccQuery

    units = index_units(result.get("units") or [], meta_unit)
    grouped = _simprints_of(result) or {}
    simprints = {kind: [s["simprint"] for s in items] for kind, items in grouped.items()}
    if not units and not simprints:
        return None
    return IsccQuery(units=units or None, simprints=simprints or None)


def check_metadata(metadata: EntryMetadata | None) -> dict[str, str] | None:
    """The published metadata as stored, or 400 for a ``ref`` that is no http(s) URL."""
    if metadata is None:
        return None
    published = {k: getattr(metadata, k) for k in PUBLISHED if getattr(metadata, k)}
    ref = published.get("ref")
    if ref is not None:
        parsed = urlparse(ref)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise BadRequest("'metadata.ref' must be an http(s) URL.")
    return published or None


def entry_of(result: Mapping[str, Any], metadata: dict[str, str] | None,
             meta_unit: bool) -> IsccEntry:
    """A new index entry for an ISCC result, under a fresh local ISCC-ID."""
    from iscc_search.models import IsccID
    from iscc_search.schema import IsccEntry

    return IsccEntry(
        iscc_id=str(IsccID.random()),
        iscc_code=result["iscc"],
        units=index_units(result["units"], meta_unit),
        simprints=_simprints_of(result),
        metadata=metadata,
    )


# --- iscc-search's answers as our bodies ------------------------------------------------


def _published(metadata: Any) -> EntryMetadata | None:
    """Only the published fields of an entry's metadata (a shared server may hold more)."""
    if metadata is None:
        return None
    data = metadata if isinstance(metadata, Mapping) else metadata.model_dump()
    limits = {"name": 128, "description": 4096, "ref": 2048}
    kept = {k: data[k] for k in PUBLISHED
            if isinstance(data.get(k), str) and 0 < len(data[k]) <= limits[k]}
    return EntryMetadata(**kept) if kept else None


def matches_of(found: IsccSearchResult) -> tuple[list[Match], list[ChunkMatch]]:
    matches = [Match(iscc_id=m.iscc_id, score=m.score, types=dict(m.types),
                     metadata=_published(m.metadata)) for m in found.global_matches]
    chunk_matches = [
        ChunkMatch(
            iscc_id=m.iscc_id, score=m.score, metadata=_published(m.metadata),
            types={
                kind: ChunkTypeMatch(
                    score=t.score, matches=t.matches, queried=t.queried,
                    chunks=None if t.chunks is None else [
                        MatchedChunk(query=c.query, match=c.match, score=c.score, freq=c.freq,
                                     offset=c.offset, size=c.size) for c in t.chunks
                    ],
                ) for kind, t in m.types.items()
            },
        ) for m in found.chunk_matches
    ]
    return matches, chunk_matches


def entry_body(entry: IsccEntry) -> IndexEntry:
    simprints = None
    if entry.simprints:
        simprints = {kind: [IndexedSimprint(simprint=s.simprint, offset=s.offset, size=s.size)
                            for s in items] for kind, items in entry.simprints.items()}
    return IndexEntry(iscc_id=entry.iscc_id or "", iscc_code=entry.iscc_code,
                      units=entry.units, simprints=simprints,
                      metadata=_published(entry.metadata))
