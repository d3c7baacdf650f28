"""Errors with an HTTP status each, and the one renderer that turns them into problem+json."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

from quart import Response, has_request_context, request
from werkzeug.exceptions import HTTPException

if TYPE_CHECKING:
    from quart import Quart

log = logging.getLogger("iscc_web")

#: ASGI scope key under which an unexpected error of the request is kept (see kernel.observe).
SCOPE_ERROR = "iscc_web.error"

PROBLEM_JSON = "application/problem+json"


class HttpError(Exception):
    """An error that ends a request with ``status`` and a human-readable ``detail``."""

    status: ClassVar[int] = 500
    default_detail: ClassVar[str] = "Internal server error."
    #: Seconds a client is told to wait (``Retry-After``) unless the raiser says otherwise.
    default_retry_after: ClassVar[float | None] = None

    def __init__(self, detail: str | None = None, *, headers: Mapping[str, str] | None = None,
                 retry_after: float | None = None):
        self.detail = detail or self.default_detail
        self.headers = dict(headers or {})
        seconds = self.default_retry_after if retry_after is None else retry_after
        if seconds is not None:
            self.headers.setdefault("Retry-After", str(max(1, math.ceil(seconds))))
        super().__init__(self.detail)


class BadRequest(HttpError):
    status = 400
    default_detail = "Bad request."


class Forbidden(HttpError):
    status = 403
    default_detail = "Only accessible by original uploader."


class NotFound(HttpError):
    status = 404
    default_detail = "Not found."


class RequestTimeout(HttpError):
    status = 408
    default_detail = "The request body was not received in time."


class PayloadTooLarge(HttpError):
    status = 413
    default_detail = "The request body is too large."


class UnprocessableEntity(HttpError):
    status = 422
    default_detail = "Unprocessable entity."


class JobTimeout(UnprocessableEntity):
    """A worker job ran past ``process_timeout``; its worker was recycled."""

    default_detail = "Processing timed out."


class JobTooComplex(UnprocessableEntity):
    """A worker job hit its worker's memory limit; its worker was replaced."""

    default_detail = "File too complex to process."


class TooManyRequests(HttpError):
    status = 429
    default_detail = "Too many requests, try again later."


class ServiceUnavailable(HttpError):
    """Busy or briefly unable to serve; always tells the client when to retry."""

    status = 503
    default_detail = "The service is busy, try again later."
    default_retry_after = 5


class InsufficientStorage(HttpError):
    status = 507
    default_detail = "Not enough storage to accept this upload."


def problem_body(status: int, detail: str) -> dict[str, Any]:
    """The RFC 9457 problem object for ``status`` with a human-readable ``detail``."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}


def problem_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Build an RFC 9457 ``application/problem+json`` response.

    When the request's body has not fully arrived, the response closes the connection.
    """
    body = problem_body(status, detail)
    response = Response(json.dumps(body), status=status, content_type=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if has_request_context() and getattr(request, "body_unread", False):
        response.headers["Connection"] = "close"
    return response


def _first_http_error(group: BaseExceptionGroup) -> HttpError | None:
    matched: BaseException | None = group.split(HttpError)[0]
    while isinstance(matched, BaseExceptionGroup):
        matched = matched.exceptions[0]
    return matched if isinstance(matched, HttpError) else None


def _answered(error: BaseException) -> None:
    """A routing error answered as problem+json keeps no tracebacks (its own nor those of the
    errors it arose from): nothing reports it, and their frames hold the request, which holds
    its routing error, in reference cycles that only the garbage collector frees (~75 objects
    per 404, a collection every ~8 requests)."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__context__


async def _render_http_error(error: HttpError) -> Response:
    return problem_response(error.status, error.detail, error.headers)


async def _render_framework_error(error: HTTPException) -> Response:
    _answered(error)
    status = error.code or 500
    headers = {}
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(sorted(valid_methods))
    detail = error.description or HTTPStatus(status).phrase
    return problem_response(status, detail, headers)


async def _render_unexpected(error: Exception) -> Response:
    if isinstance(error, BaseExceptionGroup):
        found = _first_http_error(error)
        if found is not None:
            return await _render_http_error(found)
    log.error("unhandled error: %r", error, exc_info=error)
    if has_request_context():  # for observers (error reports) after the response
        scope: Any = request.scope
        scope[SCOPE_ERROR] = error
    return problem_response(500, "Internal server error.")


def install_error_handlers(app: Quart) -> None:
    """Render every error the app can raise as problem+json, without internals."""
    app.register_error_handler(HttpError, _render_http_error)
    app.register_error_handler(HTTPException, _render_framework_error)
    app.register_error_handler(Exception, _render_unexpected)
