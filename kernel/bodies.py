"""Reading request bodies: counted, time-limited, never more than a limit in memory."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import trio
from quart import Request

from kernel.asgi import HIGH_WATER, BackpressureBody
from kernel.errors import BadRequest, PayloadTooLarge, RequestTimeout

#: Bytes a large upload is handed to storage in (at most ``HIGH_WATER`` are ever buffered).
READ_CHUNK = HIGH_WATER // 2


async def body_chunks(request: Request, *, limit: int, idle_timeout: float,
                      allow_empty: bool = False) -> AsyncGenerator[bytes, None]:
    """Yield the request body in chunks of about :data:`READ_CHUNK` bytes.

    Raises:
        BadRequest: the body was empty and ``allow_empty`` is false.
        PayloadTooLarge: more than ``limit`` bytes arrived (counted, chunked bodies included).
        RequestTimeout: no bytes arrived for ``idle_timeout`` seconds.
    """
    body = request.body
    if not isinstance(body, BackpressureBody):
        raise TypeError("the app's request class must use BackpressureBody")
    received = 0
    while True:
        try:
            # never wait for more than one byte past the limit: an over-limit body is
            # answered at once, even if its sender then stalls
            want = max(1, min(READ_CHUNK, limit - received + 1))
            chunk = await body.read_chunk(want, idle_timeout)
        except trio.TooSlowError:
            raise RequestTimeout("The request body was not received in time.") from None
        if not chunk:
            if received == 0 and not allow_empty:
                raise BadRequest("The request body is empty.")
            return
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"Upload exceeds the maximum size of {limit} bytes.")
        yield chunk


def check_content_length(request: Request, limit: int) -> None:
    """Reject a declared ``Content-Length`` that is not a positive size within ``limit``."""
    raw = request.headers.get("Content-Length")
    if raw is None:
        return
    try:
        length = int(raw)
    except ValueError:
        raise BadRequest("Content-Length must be an integer.") from None
    if length < 1:
        raise BadRequest(f"Content-Length must be > 0 and <= {limit}")
    if length > limit:
        raise PayloadTooLarge(f"Upload exceeds the maximum size of {limit} bytes.")


async def read_json(request: Request, *, limit: int, idle_timeout: float) -> Any:
    """Read and parse a JSON body of at most ``limit`` bytes.

    Raises:
        BadRequest: the body is not UTF-8 JSON.
        PayloadTooLarge: the body is larger than ``limit``.
    """
    check_content_length(request, limit)
    data = bytearray()
    async for chunk in body_chunks(request, limit=limit, idle_timeout=idle_timeout,
                                   allow_empty=True):
        data += chunk
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The request body is not valid JSON.") from None
