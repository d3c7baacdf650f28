"""Routes of the ``iscc`` group (CONTRACT §2.3, §2.4)."""

from __future__ import annotations

import functools
from typing import Any

from quart import Blueprint, Response, request

from kernel import (
    API_PREFIX,
    NotFound,
    Progress,
    UnprocessableEntity,
    UploadMeta,
    get_settings,
    get_storage,
    label_request,
    media_location,
    media_url,
    open_job,
    package_route,
    plugin_settings,
    receive_upload_or_url,
    run_upload_job,
)
from plugins._processing.capabilities import semantic_modes
from plugins._processing.hashing import StreamedSum
from plugins._processing.outcome import run_job, sidecar_json
from plugins._processing.query import query_bool
from plugins._processing.settings import shared_processing
from plugins._processing.work import SEMANTIC_FALLBACK, iscc_job
from plugins.iscc.settings import SECTION, IsccSettings

blueprint = Blueprint("iscc", __name__, url_prefix=API_PREFIX)

SIDECAR = "iscc.json"
SEMANTIC_UNAVAILABLE = "Semantic codes are not available on this server."
#: RFC 9111-style warning sent with a standard code that stands in for a semantic one.
FALLBACK_WARNING = '299 - "Semantic code not available on this server; standard ISCC returned."'


async def _process(meta: UploadMeta, semantic: bool, granular: bool | None,
                   modes: tuple[str, ...], streamed: dict[str, Any],
                   fallback: bool, progress: Progress) -> dict[str, Any]:
    storage = get_storage()
    await progress("reading the file")
    async with storage.local_file(meta) as stored, open_job() as job:
        path = await job.add_input(stored)
        await progress("computing the ISCC")
        result = await run_job(job.run, iscc_job, str(path), semantic, granular, modes,
                               streamed, fallback, timeout_detail="ISCC processing timed out.")
    label_request(mode=str(result.get("mode", "none")))
    fell_back = result.pop(SEMANTIC_FALLBACK, False)
    await progress("storing the result")
    await storage.put_sidecar(meta.media_id, SIDECAR, sidecar_json(result))
    if fell_back:
        result["semantic"] = False
    return result


async def _created(meta: UploadMeta, semantic: bool, granular: bool | None,
                   modes: tuple[str, ...], hashed: StreamedSum, fallback: bool, content: str,
                   progress: Progress) -> dict[str, Any]:
    """The 201 body: the result plus ``media_id`` and ``content`` (URL fixed at request time)."""
    result = await _process(meta, semantic, granular, modes, hashed.digests(), fallback,
                            progress)
    return {**result, "media_id": meta.media_id, "content": content}


@blueprint.post("/iscc")
async def create_iscc() -> Any:
    own: IsccSettings = plugin_settings(SECTION)
    semantic = query_bool(request.args, "semantic")
    granular = query_bool(request.args, "granular")
    if semantic is None:
        semantic = own.semantic_default
    model_dir = shared_processing(get_settings()).semantic_model_dir
    modes = semantic_modes(model_dir) if semantic else ()
    if semantic and not modes and not own.semantic_fallback:
        raise UnprocessableEntity(SEMANTIC_UNAVAILABLE)
    hashed = StreamedSum()  # Data- and Instance-Code hashed while the body streams in
    meta = await receive_upload_or_url(own.fetch_policy(), hashed, keep_local=True)
    work = functools.partial(_created, meta, semantic, granular, modes, hashed,
                             own.semantic_fallback, media_url(meta.media_id))
    return await run_upload_job(meta, work, location=media_location(meta.media_id),
                                headers=_warning)


def _warning(body: dict[str, Any]) -> dict[str, str]:
    return {"Warning": FALLBACK_WARNING} if body.get("semantic") is False else {}


@blueprint.get("/iscc/<mid:media_id>")
@package_route("result", not_found="No ISCC-CODE found.")
async def get_iscc(meta: UploadMeta) -> Response:
    data = await get_storage().get_sidecar(meta.media_id, SIDECAR)
    if data is None:
        raise NotFound("No ISCC-CODE found.")
    response = Response(data, content_type="application/json")
    response.headers["Content-Disposition"] = "inline"
    return response
