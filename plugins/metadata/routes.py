"""Routes of the ``metadata`` group (CONTRACT §2.8, §2.9, "we differ" D3)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import trio
from quart import Blueprint, request

from kernel import (
    API_PREFIX,
    JobTimeout,
    UnprocessableEntity,
    UploadMeta,
    get_settings,
    get_storage,
    label_request,
    media_location,
    media_url,
    new_media_id,
    package_route,
    plugin_settings,
    read_json,
    run_sync,
)
from plugins._processing.errors import ProcessingFailed
from plugins._processing.work import embed_job, extract_job
from plugins.metadata.settings import MetadataSettings
from plugins.metadata.validate import inline_metadata

blueprint = Blueprint("metadata", __name__, url_prefix=API_PREFIX)

SIDECAR = "iscc.json"


async def _run(fn: Any, *args: Any, timeout_detail: str) -> Any:
    try:
        return await run_sync(fn, *args)
    except JobTimeout:
        raise UnprocessableEntity(timeout_detail) from None
    except ProcessingFailed as exc:
        raise UnprocessableEntity(exc.detail) from None


@blueprint.get("/metadata/<mid:media_id>")
@package_route("result")
async def extract_metadata(meta: UploadMeta) -> dict[str, str]:
    async with get_storage().local_file(meta) as path:
        return await _run(extract_job, str(path), timeout_detail="Failed to extract metadata.")


@blueprint.post("/metadata/<mid:media_id>")
@package_route("embed")
async def embed_metadata(meta: UploadMeta) -> Any:
    own: MetadataSettings = plugin_settings("metadata")
    body = await read_json(request, limit=own.max_metadata_body,
                           idle_timeout=get_settings().kernel.body_timeout)
    fields = inline_metadata(body)
    storage = get_storage()
    new_meta = meta.with_media_id(new_media_id())
    workdir = Path(await trio.to_thread.run_sync(tempfile.mkdtemp, None, "iscc-embed-"))
    try:
        out_path = workdir / new_meta.clean_file_name
        async with storage.local_file(meta) as path:
            result = await _run(embed_job, str(path), fields, str(out_path),
                                timeout_detail="Metadata processing timed out.")
        label_request(mode=str(result.get("mode", "none")))
        await storage.save_file(new_meta, out_path)
        try:
            await storage.put_sidecar(new_meta.media_id, SIDECAR,
                                      json.dumps(result, indent=2).encode())
        except BaseException:
            with trio.CancelScope(shield=True):
                await storage.delete(new_meta.media_id)
            raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    body = {**result, "media_id": new_meta.media_id, "content": media_url(new_meta.media_id)}
    return body, 201, {"Location": media_location(new_meta.media_id)}
