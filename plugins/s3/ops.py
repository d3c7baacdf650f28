"""The store driven from Trio: every request runs in a worker thread, errors become HTTP errors.

Single-key PUT/GET/HEAD go through :class:`~plugins.s3.direct.DirectObjects` (a fraction of
boto3's CPU per call); everything else through boto3. Both are thread-safe; each request takes
one thread hop (``trio.to_thread``) so the event loop never blocks on the network, and
:meth:`S3Ops.in_thread` runs several blocking requests in one hop. Errors are sorted into
three kinds: the object (or its precondition) is missing, which callers handle; the store is
full or over quota (507); the store is unreachable or failing (503 with ``Retry-After``),
which heals by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import boto3
import botocore.config
import trio
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import determine_content_length
from urllib3.exceptions import HTTPError as Urllib3Error

from kernel import HttpError, InsufficientStorage, ServiceUnavailable
from plugins.s3.direct import DirectError, DirectObjects
from plugins.s3.settings import S3Settings

T = TypeVar("T")

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
    return failure(error_code(exc) or type(exc).__name__)


def failure(code: str) -> HttpError:
    """The HTTP error for a store request that failed with ``code`` (logged)."""
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

    ``Expect: 100-continue`` spares sending a body the store would refuse; for a meta record, a
    sidecar or a small file, the extra round trip costs more than sending it.
    """
    body = params.get("body")
    if "Expect" in params.get("headers", {}) and body is not None:
        length = determine_content_length(body)
        if length is not None and length <= EXPECT_THRESHOLD:
            del params["headers"]["Expect"]


def make_client(settings: S3Settings) -> tuple[Any, DirectObjects | None]:
    """A boto3 S3 client for ``settings`` and the direct path to the same bucket (slow: call
    it from a thread). There is a direct path for a configured ``endpoint`` with credentials;
    without credentials, boto3 says why every request fails."""
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
    # keys given to the session (not the client): both paths then sign with the same ones
    session = boto3.session.Session(aws_access_key_id=settings.access_key or None,
                                    aws_secret_access_key=settings.secret_key or None)
    client = session.client("s3", endpoint_url=settings.endpoint or None, config=config)
    client.meta.events.register_last("before-call.s3", _no_expect)
    credentials = session.get_credentials()
    if credentials is None or not settings.endpoint:
        return client, None  # AWS itself (region redirects and all) is left to boto3
    # the bucket's URL exactly as boto3 resolves it (addressing style, region, endpoint)
    probe = client.generate_presigned_url("head_object", ExpiresIn=60,
                                          Params={"Bucket": settings.bucket, "Key": "k"})
    url = probe.partition("?")[0].removesuffix("k")
    direct = DirectObjects(url, settings.region, credentials,
                           connect_timeout=settings.connect_timeout,
                           read_timeout=settings.read_timeout,
                           max_attempts=settings.max_attempts,
                           pool_size=settings.max_pool_connections)
    return client, direct


def _direct_failure(exc: DirectError) -> Exception:
    if exc.status == 404 or exc.code in _NOT_FOUND:
        return ObjectMissing(exc.code)
    if exc.status == 412 or exc.code in _PRECONDITION:
        return PreconditionFailed(exc.code)
    return failure(exc.code)


class S3Ops:
    """One bucket's operations, awaitable from Trio (``*_now``: blocking, for a thread)."""

    def __init__(self, client: Any, bucket: str, direct: DirectObjects | None = None):
        self.client = client
        self.bucket = bucket
        self.direct = direct

    async def in_thread(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (blocking requests, e.g. several ``*_now`` calls) in one thread hop."""
        return await trio.to_thread.run_sync(fn)

    def put_now(self, key: str, body: bytes, *, content_type: str | None = None,
                if_none_match: bool = False, metadata: dict[str, str] | None = None) -> None:
        """PUT one object (``if_none_match``: only if the key does not exist yet; ``metadata``:
        its user metadata)."""
        if self.direct is None:
            extra: dict[str, Any] = {"IfNoneMatch": "*"} if if_none_match else {}
            if content_type:
                extra["ContentType"] = content_type
            if metadata:
                extra["Metadata"] = metadata
            self.call_now("put_object", Key=key, Body=body, **extra)
            return
        try:
            self.direct.put(key, body, content_type=content_type, if_none_match=if_none_match,
                            metadata=metadata)
        except DirectError as exc:
            raise _direct_failure(exc) from None

    def metadata_now(self, key: str) -> dict[str, str]:
        """The user metadata of one object (a HEAD request)."""
        if self.direct is None:
            return dict(self.call_now("head_object", Key=key).get("Metadata", {}))
        try:
            return self.direct.metadata(key)
        except DirectError as exc:
            raise _direct_failure(exc) from None

    def get_now(self, key: str) -> bytes:
        """The whole body of one (small) object."""
        if self.direct is None:
            body = self.call_now("get_object", Key=key)["Body"]
            try:
                return body.read()
            except TRANSPORT_ERRORS as exc:
                raise store_error(exc) from None
            finally:
                body.close()
        try:
            return self.direct.get(key)
        except DirectError as exc:
            raise _direct_failure(exc) from None

    def size_now(self, key: str) -> int:
        """The size of one object (a HEAD request)."""
        if self.direct is None:
            return int(self.call_now("head_object", Key=key)["ContentLength"])
        try:
            return int(self.direct.head(key).headers.get("content-length", "0"))
        except DirectError as exc:
            raise _direct_failure(exc) from None

    async def put(self, key: str, body: bytes, *, content_type: str | None = None,
                  if_none_match: bool = False) -> None:
        await trio.to_thread.run_sync(partial(self.put_now, key, body, content_type=content_type,
                                              if_none_match=if_none_match))

    async def get(self, key: str) -> bytes:
        return await trio.to_thread.run_sync(self.get_now, key)

    async def size(self, key: str) -> int:
        return await trio.to_thread.run_sync(self.size_now, key)

    async def metadata(self, key: str) -> dict[str, str]:
        return await trio.to_thread.run_sync(self.metadata_now, key)

    def close(self) -> None:
        """Close the connections (blocking)."""
        if self.direct is not None:
            self.direct.close()
        self.client.close()

    async def call(self, method: str, **kwargs: Any) -> Any:
        """Run ``client.<method>(Bucket=..., **kwargs)`` in a thread.

        Raises:
            ObjectMissing: the store answered 404 for the key or upload.
            PreconditionFailed: a conditional write found the key present.
            InsufficientStorage: the store is full or over quota.
            ServiceUnavailable: the store is unreachable or failing.
        """
        return await trio.to_thread.run_sync(partial(self.call_now, method, **kwargs))

    def call_now(self, method: str, **kwargs: Any) -> Any:
        """:meth:`call`, blocking."""
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
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

