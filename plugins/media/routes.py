"""Routes of the ``media`` group (CONTRACT §2.5–2.7)."""

from __future__ import annotations

from urllib.parse import quote

from quart import Blueprint, Response

from kernel import (
    API_PREFIX,
    NotFound,
    UploadMeta,
    get_settings,
    get_storage,
    media_location,
    media_url,
    package_route,
    receive_upload,
)

blueprint = Blueprint("media", __name__, url_prefix=API_PREFIX)


def content_disposition(kind: str, file_name: str) -> str:
    """``Content-Disposition`` that survives any file name (RFC 6266 ``filename*``)."""
    fallback = file_name.encode("ascii", "replace").decode().replace("?", "_")
    fallback = fallback.replace("\\", "_").replace('"', "_")
    value = f'{kind}; filename="{fallback}"'
    if fallback != file_name:
        value += f"; filename*=UTF-8''{quote(file_name, safe='')}"
    return value


@blueprint.post("/media")
async def upload_file() -> tuple[dict[str, str], int, dict[str, str]]:
    meta = await receive_upload()
    body = {"content": media_url(meta.media_id), "media_id": meta.media_id}
    return body, 201, {"Location": media_location(meta.media_id)}


@blueprint.get("/media/<mid:media_id>")
@package_route("download")
async def download_file(meta: UploadMeta) -> Response:
    storage = get_storage()
    size = await storage.file_size(meta)
    chunks = storage.read_file(meta, get_settings().kernel.io_read_size)
    response = Response(chunks, content_type=meta.content_type or "application/octet-stream")
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = content_disposition("attachment",
                                                                  meta.clean_file_name)
    response.timeout = None  # a download may take longer than any fixed limit
    # an uploaded HTML or SVG file never runs on this origin, whatever its type claims; and
    # no intermediary (nor the app's compression) re-encodes it: lengths and ranges stay exact
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-transform"
    return response


@blueprint.delete("/media/<mid:media_id>")
@package_route("delete")
async def delete_file(meta: UploadMeta) -> Response:
    if not await get_storage().delete(meta.media_id):
        raise NotFound("File not found")
    return Response("", status=204)
