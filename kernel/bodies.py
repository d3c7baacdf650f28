"""Reading request bodies: counted, time-limited, never more than a limit in memory."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import trio
from quart import Request

from kernel.errors import BadRequest, PayloadTooLarge, RequestTimeout


async def body_chunks(request: Request, *, limit: int, idle_timeout: float,
                      allow_empty: bool = False) -> AsyncIterator[bytes]:
    """Yield the request body chunk by chunk.

    Raises:
        BadRequest: the body was empty and ``allow_empty`` is false.
        PayloadTooLarge: more than ``limit`` bytes arrived (counted, chunked bodies included).
        RequestTimeout: no bytes arrived for ``idle_timeout`` seconds.
    """
    received = 0
    body = request.body.__aiter__()
    while True:
        with trio.move_on_after(idle_timeout) as scope:
            try:
                chunk = await body.__anext__()
            except StopAsyncIteration:
                if received == 0 and not allow_empty:
                    raise BadRequest("The request body is empty.") from None
                return
        if scope.cancelled_caught:
            raise RequestTimeout("The request body was not received in time.")
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"Upload exceeds the maximum size of {limit} bytes.")
        if chunk:
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
