"""Raw-body uploads: header checks in the contract's order, then a stream into storage."""

from __future__ import annotations

import binascii
from contextlib import aclosing

from quart import request

from kernel.bodies import body_chunks, check_content_length
from kernel.context import current_actor, runtime
from kernel.errors import BadRequest
from kernel.storage import UploadMeta, new_media_id
from kernel.upload_observers import UploadObserver, save_observed

FILENAME_HEADER = "X-Upload-Filename"


def decode_file_name(header: str | None) -> str:
    """Decode the base64 (standard alphabet, strict) UTF-8 file name header."""
    if not header:
        raise BadRequest(f"Missing header {FILENAME_HEADER}.")
    try:
        raw = binascii.a2b_base64(header.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BadRequest(f"{FILENAME_HEADER} is not base64.") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("X-Uploaded-Filename is not UTF-8 encoded") from None


def upload_content_type() -> str:
    value = request.headers.get("Content-Type", "")
    if not value.isascii():
        raise BadRequest("Content-Type must be ASCII.")
    return value


async def receive_upload(observer: UploadObserver | None = None) -> UploadMeta:
    """Stream the current request's body into a new package and return its record.

    An ``observer`` sees every chunk while it is stored (see :mod:`kernel.upload_observers`).

    Raises:
        BadRequest: bad headers or an empty body.
        PayloadTooLarge: over ``max_upload_size`` (declared or counted while streaming).
        RequestTimeout: the client stalled.
        InsufficientStorage: the storage could not take it.
    """
    rt = runtime()
    kernel = rt.settings.kernel
    check_content_length(request, kernel.max_upload_size)
    file_name = decode_file_name(request.headers.get(FILENAME_HEADER))
    meta = UploadMeta(
        media_id=new_media_id(),
        file_name=file_name,
        content_type=upload_content_type(),
        user=current_actor(),
    )
    chunks = body_chunks(request, limit=kernel.max_upload_size, idle_timeout=kernel.body_timeout)
    async with aclosing(chunks):
        if observer is None:
            await rt.counted_storage.save_upload(meta, chunks)
        else:
            await save_observed(rt.counted_storage, meta, chunks, observer)
    return meta
