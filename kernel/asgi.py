"""Request bodies with backpressure.

Quart's receive loop appends every body message to an unbounded buffer. Here the loop stops
pulling from the server while more than :data:`HIGH_WATER` bytes wait unread, so a slow consumer
(a disk, a worker) slows the client down instead of growing the server's memory.
"""

from __future__ import annotations

import trio
from hypercorn.typing import ASGIReceiveCallable
from quart_trio.asgi import TrioASGIHTTPConnection
from quart_trio.wrappers.request import TrioBody, TrioRequest

#: Unread request bytes at which the server stops reading from the socket.
HIGH_WATER = 1 << 20


class BackpressureBody(TrioBody):
    """A request body that tells its producer when the consumer has taken the data."""

    def __init__(self, expected_content_length: int | None, max_content_length: int | None):
        super().__init__(expected_content_length, max_content_length)
        self._taken = trio.Event()

    @property
    def buffered(self) -> int:
        return len(self._data)

    async def wait_taken(self) -> None:
        """Wait until the consumer has taken the buffered bytes."""
        if self._taken.is_set():
            self._taken = trio.Event()
        await self._taken.wait()

    async def __anext__(self) -> bytes:
        try:
            return await super().__anext__()
        finally:
            self._taken.set()


class StreamingRequest(TrioRequest):
    body_class = BackpressureBody


class BackpressureHTTPConnection(TrioASGIHTTPConnection):
    async def handle_messages(  # type: ignore[override]
        self, nursery: trio.Nursery, request: StreamingRequest, receive: ASGIReceiveCallable
    ) -> None:
        body = request.body
        while True:
            while isinstance(body, BackpressureBody) and body.buffered > HIGH_WATER:
                await body.wait_taken()
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body.set_complete()
            elif message["type"] == "http.disconnect":
                break
        nursery.cancel_scope.cancel()
