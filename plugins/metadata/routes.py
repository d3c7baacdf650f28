"""Routes of the ``metadata`` group (CONTRACT §2.8, §2.9, "we differ" D3)."""

from __future__ import annotations

from typing import Any

import trio
from quart import Blueprint, request

from kernel import (
    API_PREFIX,
    UploadMeta,
    get_settings,
    get_storage,
    label_request,
    media_location,
    media_url,
    new_media_id,
    open_job,
    package_route,
    read_json,
)
from plugins._processing.outcome import run_job, sidecar_json
from plugins._processing.work import embed_job, extract_job
from plugins._schema import InlineMetadata, dump, load

blueprint = Blueprint("metadata", __name__, url_prefix=API_PREFIX)

SIDECAR = "iscc.json"


@blueprint.get("/metadata/<mid:media_id>")
@package_route("result")
async def extract_metadata(meta: UploadMeta) -> dict[str, str]:
    async with get_storage().local_file(meta) as stored, open_job() as job:
        path = await job.add_input(stored)
        return await run_job(job.run, extract_job, str(path),
                             timeout_detail="Failed to extract metadata.")


@blueprint.post("/metadata/<mid:media_id>")
@package_route("embed")
async def embed_metadata(meta: UploadMeta) -> Any:
    kernel = get_settings().kernel
    body = await read_json(request, limit=kernel.max_json_body, idle_timeout=kernel.body_timeout)
    fields = dump(load(InlineMetadata, body))
    storage = get_storage()
    new_meta = meta.with_media_id(new_media_id())
    async with open_job() as job:
        out_path = job.path / "out" / new_meta.clean_file_name
        async with storage.local_file(meta) as stored:
            path = await job.add_input(stored)
            result = await run_job(job.run, embed_job, str(path), fields, str(out_path),
                                   timeout_detail="Metadata processing timed out.")
        label_request(mode=str(result.get("mode", "none")))
        await storage.save_file(new_meta, out_path)
        try:
            await storage.put_sidecar(new_meta.media_id, SIDECAR,
                                      sidecar_json(result))
        except BaseException:
            with trio.CancelScope(shield=True):
                await storage.delete(new_meta.media_id)
            raise
    body = {**result, "media_id": new_meta.media_id, "content": media_url(new_meta.media_id)}
    return body, 201, {"Location": media_location(new_meta.media_id)}
