"""Raw-body uploads: header checks in the contract's order, then a stream into storage."""

from __future__ import annotations

import binascii
import re
from contextlib import aclosing

from quart import request

from kernel.bodies import body_chunks, check_content_length
from kernel.context import Runtime, current_actor, runtime
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


#: Longest ``Content-Type`` stored (and replayed on every download).
MAX_CONTENT_TYPE = 255
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"  # RFC 6838 restricted-name
_QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t !-~])*"'
_MEDIA_TYPE = re.compile(
    rf"{_NAME}/{_NAME}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*[ \t]*"
)


def upload_content_type() -> str:
    """The upload's ``Content-Type``: ``""`` when absent, else a media type (RFC 6838 names,
    RFC 9110 parameters) of at most :data:`MAX_CONTENT_TYPE` bytes.

    Raises:
        BadRequest: anything else (it would be stored and echoed on every download).
    """
    value = request.headers.get("Content-Type", "")
    if value and (len(value) > MAX_CONTENT_TYPE or not value.isascii()
                  or not _MEDIA_TYPE.fullmatch(value)):
        raise BadRequest(f"Content-Type must be a media type (type/subtype[; parameters]) "
                         f"of at most {MAX_CONTENT_TYPE} bytes.")
    return value


def check_room(rt: Runtime, declared: str | None) -> None:
    """507 before reading when the declared size cannot fit the requester's quotas."""
    if rt.quota is None:
        return
    ledger = rt.quota.ledger
    actor = current_actor()
    ledger.check_new_package(actor)
    if declared is not None and declared.isdigit():
        ledger.charge(actor, int(declared))
        ledger.release(actor, int(declared))




async def receive_upload(observer: UploadObserver | None = None, *,
                         keep_local: bool = False) -> UploadMeta:
    """Stream the current request's body into a new package and return its record.

    An ``observer`` sees every chunk while it is stored (see :mod:`kernel.upload_observers`).
    ``keep_local``: the route processes the file next (see ``Storage.save_upload``).

    Raises:
        BadRequest: bad headers or an empty body.
        PayloadTooLarge: over ``max_upload_size`` (declared or counted while streaming).
        RequestTimeout: the client stalled.
        InsufficientStorage: the storage could not take it.
    """
    rt = runtime()
    kernel = rt.settings.kernel
    check_content_length(request, kernel.max_upload_size)
    check_room(rt, request.headers.get("Content-Length"))
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
            await rt.counted_storage.save_upload(meta, chunks, keep_local=keep_local)
        else:
            await save_observed(rt.counted_storage, meta, chunks, observer,
                                keep_local=keep_local)
    return meta
