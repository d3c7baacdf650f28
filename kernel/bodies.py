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
#: Deepest nesting of arrays and objects a JSON body may have.
MAX_JSON_DEPTH = 64


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


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (iteratively, no recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(data: bytes | bytearray, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON body.

    Raises:
        BadRequest: not UTF-8 JSON, or nested deeper than ``max_depth``.
    """
    too_deep = BadRequest(f"The request body nests deeper than {max_depth} levels.")
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise too_deep from None
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The request body is not valid JSON.") from None
    if json_depth(value) > max_depth:
        raise too_deep
    return value


async def read_json(request: Request, *, limit: int, idle_timeout: float) -> Any:
    """Read and parse a JSON body of at most ``limit`` bytes, counted while it streams in.

    Raises:
        BadRequest: the body is not UTF-8 JSON, or nests deeper than :data:`MAX_JSON_DEPTH`.
        PayloadTooLarge: the body is larger than ``limit`` (before more than that is read).
    """
    check_content_length(request, limit)
    data = bytearray()
    async for chunk in body_chunks(request, limit=limit, idle_timeout=idle_timeout,
                                   allow_empty=True):
        data += chunk
    return parse_json(data)
