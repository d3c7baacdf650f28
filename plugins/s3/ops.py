"""boto3 driven from Trio: every call runs in a worker thread, store errors become HTTP errors.

The client is thread-safe; each call takes one thread hop (``trio.to_thread``) so the event
loop never blocks on the network. Errors are sorted into three kinds: the object (or its
precondition) is missing, which callers handle; the store is full or over quota (507); the
store is unreachable or failing (503 with ``Retry-After``), which heals by itself.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from functools import partial
from typing import Any

import boto3
import botocore.config
import trio
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import determine_content_length
from urllib3.exceptions import HTTPError as Urllib3Error

from kernel import HttpError, InsufficientStorage, ServiceUnavailable
from plugins.s3.settings import S3Settings

log = logging.getLogger("iscc_web.storage.s3")

_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchUpload"}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_FULL = {"QuotaExceeded", "InsufficientStorage", "EntityTooLarge", "XMinioStorageFull",
         "StorageFull"}
#: Everything that means "talking to the store failed" apart from an S3 error answer.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (BotoCoreError, Urllib3Error, OSError)


class ObjectMissing(Exception):
    """The key (or multipart upload) does not exist."""


class PreconditionFailed(Exception):
    """A conditional write lost: the key already exists."""


def unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("The storage is unavailable, try again later.")


def store_error(exc: BaseException) -> HttpError:
    """The HTTP error for a failed store request (logged without keys or secrets)."""
    code = error_code(exc) or type(exc).__name__
    log.error("object store request failed: %s", code)
    if code in _FULL:
        return InsufficientStorage()
    return unavailable()


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


#: Bodies up to this size are sent without ``Expect: 100-continue`` (see :func:`_no_expect`).
EXPECT_THRESHOLD = 1024 * 1024


def _no_expect(params: dict[str, Any], **kwargs: Any) -> None:
    """Send small bodies at once instead of asking first (botocore asks for every body).

    ``Expect: 100-continue`` spares sending a body the store would refuse; for a claim, a meta
    record, a sidecar or a small file, the extra round trip costs more than sending it.
    """
    body = params.get("body")
    if "Expect" in params.get("headers", {}) and body is not None:
        length = determine_content_length(body)
        if length is not None and length <= EXPECT_THRESHOLD:
            del params["headers"]["Expect"]


def make_client(settings: S3Settings) -> Any:
    """A boto3 S3 client for ``settings`` (slow: call it from a thread)."""
    config = botocore.config.Config(
        region_name=settings.region,
        s3={"addressing_style": "path" if settings.path_style else "auto"},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"max_attempts": settings.max_attempts, "mode": "standard"},
        max_pool_connections=settings.max_pool_connections,
        # Checksums only when an operation requires them: S3-compatible stores differ here.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    client = session.client(
        "s3",
        endpoint_url=settings.endpoint or None,
        aws_access_key_id=settings.access_key or None,
        aws_secret_access_key=settings.secret_key or None,
        config=config,
    )
    client.meta.events.register_last("before-call.s3", _no_expect)
    return client


class S3Ops:
    """One bucket's operations, awaitable from Trio."""

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    async def call(self, method: str, **kwargs: Any) -> Any:
        """Run ``client.<method>(Bucket=..., **kwargs)`` in a thread.

        Raises:
            ObjectMissing: the store answered 404 for the key or upload.
            PreconditionFailed: a conditional write found the key present.
            InsufficientStorage: the store is full or over quota.
            ServiceUnavailable: the store is unreachable or failing.
        """
        fn = partial(getattr(self.client, method), Bucket=self.bucket, **kwargs)
        try:
            return await trio.to_thread.run_sync(fn)
        except ClientError as exc:
            code = error_code(exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _NOT_FOUND or status == 404:
                raise ObjectMissing(code) from None
            if code in _PRECONDITION or status == 412:
                raise PreconditionFailed(code) from None
            raise store_error(exc) from None
        except TRANSPORT_ERRORS as exc:
            raise store_error(exc) from None

    async def read(self, body: Any, size: int | None) -> bytes:
        """Read up to ``size`` bytes (``None``: all) of a streamed object body in a thread."""
        try:
            return await trio.to_thread.run_sync(body.read, size)
        except TRANSPORT_ERRORS as exc:
            raise store_error(exc) from None

    async def list_keys(self, prefix: str) -> list[dict[str, Any]]:
        """Every object under ``prefix`` (``Key``, ``Size``, ``LastModified``), all pages."""
        objects: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = await self.call("list_objects_v2", Prefix=prefix, **extra)
            objects.extend(page.get("Contents", []))
            if not page.get("IsTruncated"):
                return objects
            token = page["NextContinuationToken"]

    async def list_uploads(self, prefix: str) -> list[dict[str, Any]]:
        """Multipart uploads in progress under ``prefix`` (``Key``, ``UploadId``, ``Initiated``)."""
        uploads: list[dict[str, Any]] = []
        markers: dict[str, str] = {}
        while True:
            page = await self.call("list_multipart_uploads", Prefix=prefix, **markers)
            uploads.extend(page.get("Uploads", []))
            if not page.get("IsTruncated"):
                return uploads
            markers = {"KeyMarker": page.get("NextKeyMarker", ""),
                       "UploadIdMarker": page.get("NextUploadIdMarker", "")}

    async def delete_keys(self, keys: list[str]) -> None:
        """Delete ``keys`` (missing ones are fine), 1000 per request."""
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            result = await self.call("delete_objects", Delete={"Objects": batch, "Quiet": True})
            if result.get("Errors"):
                log.error("object store refused to delete %d object(s)", len(result["Errors"]))
                raise unavailable()


async def probe_conditional_writes(ops: S3Ops, prefix: str) -> bool:
    """Whether the store refuses a second ``If-None-Match: *`` write of one key.

    Returns ``True`` also when the probe itself failed (that is logged): only a store that
    demonstrably ignores the condition is reported.
    """
    key = f"{prefix}{secrets.token_hex(8)}"
    try:
        await ops.call("put_object", Key=key, Body=b"", IfNoneMatch="*")
        try:
            await ops.call("put_object", Key=key, Body=b"", IfNoneMatch="*")
            return False
        except PreconditionFailed:
            return True
    except Exception as exc:  # a probe must never stop the server
        log.warning("could not probe conditional writes: %s", type(exc).__name__)
        return True
    finally:
        with trio.CancelScope(shield=True), contextlib.suppress(Exception):
            await ops.delete_keys([key])
