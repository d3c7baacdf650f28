"""Routes of the ``similar`` group: "Seen before?" searches and the index they run on."""

from __future__ import annotations

import functools
import secrets
from typing import Any

from quart import Blueprint, Response, current_app, request

from kernel import (
    API_PREFIX,
    BadRequest,
    Forbidden,
    NotFound,
    Progress,
    UploadMeta,
    get_settings,
    get_storage,
    open_job,
    plugin_settings,
    read_json,
    receive_upload,
    require_access,
    run_upload_job,
)
from plugins._processing.hashing import StreamedSum
from plugins._processing.outcome import run_job
from plugins._processing.query import query_bool
from plugins._processing.work import iscc_job
from plugins._schema import dump, load
from plugins._schema.similar import (
    IndexAdded,
    IndexAddRequest,
    IndexStatistics,
    SimilarMatches,
    SimilarResult,
)
from plugins.similar import entries
from plugins.similar.index import SimilarIndex
from plugins.similar.settings import SECTION, SimilarSettings

EXTENSION = "iscc_web.similar"
blueprint = Blueprint(SECTION, __name__, url_prefix=API_PREFIX)

#: Bits of every ISCC-UNIT this group creates (what iscc-search matches best).
UNIT_BITS = 256
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
#: JSON bodies: a query with the most simprints allowed fits comfortably.
MAX_JSON = 1_048_576
WRITE_DENIED = "Writing to the index needs 'Authorization: Bearer <index write token>'."


def index_of(app: Any) -> SimilarIndex:
    return app.extensions[EXTENSION]


def _own() -> SimilarSettings:
    return plugin_settings(SECTION)


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"Query parameter 'limit' must be an integer from 1 to {MAX_LIMIT}.")
    return limit


def require_write_token() -> None:
    """403 unless the request carries the write token (when the server has one)."""
    token = _own().index_write_token
    if not token:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
            given.strip().encode(), token.encode()):
        raise Forbidden(WRITE_DENIED)


async def _iscc_of(meta: UploadMeta, streamed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ISCC with 256-bit units and granular features (the shared worker job, in a job
    directory of its own; ``streamed``: digests hashed while the upload arrived)."""
    async with get_storage().local_file(meta) as stored, open_job() as job:
        path = await job.add_input(stored)
        # path, semantic, granular, semantic_modes, streamed, semantic_fallback, bits
        return await run_job(job.run, iscc_job, str(path), False, True, (), streamed, False,
                             UNIT_BITS, timeout_detail="ISCC processing timed out.")


async def _search(query: Any, limit: int) -> tuple[list[Any], list[Any]]:
    if query is None:
        return [], []
    found = await index_of(current_app).search(query, limit)
    return entries.matches_of(found)


def _refuse_nulls(body: dict[str, Any], prefix: str = "") -> None:
    """No field of these bodies is nullable: ``null`` is a 400 naming it, not an omission."""
    for key, value in body.items():
        if value is None:
            raise BadRequest(f"'{prefix}{key}' must not be null (leave it out instead).")
        if isinstance(value, dict) and key == "metadata":
            _refuse_nulls(value, f"{prefix}{key}.")


async def _json_object() -> dict[str, Any]:
    kernel = get_settings().kernel
    body = await read_json(request, limit=MAX_JSON, idle_timeout=kernel.body_timeout)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    _refuse_nulls(body)
    return body


async def _find(meta: UploadMeta, hashed: StreamedSum, limit: int, add: bool,
                progress: Progress) -> dict[str, Any]:
    """The body of ``POST /similar``: the upload's ISCC, its matches, and its entry if added."""
    own = _own()
    await progress("computing the ISCC")
    result = await _iscc_of(meta, hashed.digests())
    await progress("searching the index")
    matches, chunk_matches = await _search(entries.query_of_result(result, own.index_meta_unit),
                                           limit)
    iscc_id = None
    if add:
        await progress("adding to the index")
        entry = entries.entry_of(result, None, own.index_meta_unit)
        iscc_id = (await index_of(current_app).add(entry)).iscc_id
    body = SimilarResult(iscc=result["iscc"], units=result.get("units", []), matches=matches,
                         chunk_matches=chunk_matches, iscc_id=iscc_id)
    return {**dump(body), "iscc_id": iscc_id}


@blueprint.post("/similar")
async def find_similar() -> Any:
    """A synchronous answer keeps nothing of the upload; with ``Prefer: respond-async`` the
    upload stays with its job (the job's state is part of its package) until it expires."""
    add = bool(query_bool(request.args, "add"))
    limit = _limit()
    if add:
        require_write_token()
    hashed = StreamedSum()  # Data- and Instance-Code hashed while the body streams in
    meta = await receive_upload(hashed, keep_local=True)
    work = functools.partial(_find, meta, hashed, limit, add)
    return await run_upload_job(meta, work, location=None, status=201 if add else 200,
                                keep=False)


@blueprint.post("/similar/query")
async def query_similar() -> dict[str, Any]:
    limit = _limit()
    query = entries.query_of_body(await _json_object(), _own().index_meta_unit)
    matches, chunk_matches = await _search(query, limit)
    return dump(SimilarMatches(matches=matches, chunk_matches=chunk_matches))


@blueprint.post("/index")
async def add_to_index() -> tuple[dict[str, Any], int]:
    own = _own()
    require_write_token()
    body: IndexAddRequest = load(IndexAddRequest, await _json_object())
    metadata = entries.check_metadata(body.metadata)
    meta = await get_storage().load_meta(body.media_id)
    require_access(meta, "index")
    result = await _iscc_of(meta)
    added = await index_of(current_app).add(entries.entry_of(result, metadata,
                                                             own.index_meta_unit))
    return dump(IndexAdded(iscc_id=added.iscc_id)), 201


@blueprint.get("/index")
async def get_index() -> dict[str, Any]:
    index = index_of(current_app)
    stats = await index.stats()
    return dump(IndexStatistics(name=index.name, backend=index.backend,  # type: ignore[arg-type]
                                entries=int(stats.get("assets") or 0),
                                size_mb=int(stats.get("size") or 0)))


@blueprint.get("/index/<iscc_id>")
async def get_index_entry(iscc_id: str) -> dict[str, Any]:
    canonical = entries.check_iscc_id(iscc_id)
    entry = await index_of(current_app).get(canonical)
    if entry is None:
        raise NotFound("No index entry with this ISCC-ID.")
    return dump(entries.entry_body(entry))


@blueprint.delete("/index")
async def drop_index() -> Response:
    require_write_token()
    await index_of(current_app).drop()
    return Response("", status=204)
