"""Request bodies with backpressure.

Quart's receive loop appends every body message to an unbounded buffer. Here the loop stops
pulling from the server while more than :data:`HIGH_WATER` bytes wait unread, so a slow consumer
(a disk, a worker) slows the client down instead of growing the server's memory.
"""

from __future__ import annotations

from typing import Any

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent
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

    async def read_chunk(self, min_size: int, idle_timeout: float) -> bytes:
        """Wait until ``min_size`` bytes are buffered or the body is complete; take them all.

        Returns ``b""`` at the end of the body. The chunk is the buffer itself (a bytearray,
        handed over without a copy). Waking once per ``min_size`` bytes instead of
        once per network read keeps the per-byte cost of large uploads low.

        Raises:
            trio.TooSlowError: no new bytes arrived for ``idle_timeout`` seconds.
        """
        with trio.CancelScope() as scope:
            scope.deadline = trio.current_time() + idle_timeout
            while len(self._data) < min_size and not self._complete.is_set():
                self._has_data.clear()
                await self._has_data.wait()
                scope.deadline = trio.current_time() + idle_timeout
        if scope.cancelled_caught:
            raise trio.TooSlowError
        data, self._data = self._data, bytearray()
        self._taken.set()
        return data  # type: ignore[return-value]


class StreamingRequest(TrioRequest):
    body_class = BackpressureBody

    @property
    def body_unread(self) -> bool:
        """True when the client declared a body that has not fully arrived.

        A response sent now must close the connection: the rest of the body would otherwise
        be queued for an app that no longer reads it, stalling the connection.
        """
        if self.body._complete.is_set():  # the usual case: no header lookups
            return False
        declared = self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length",
                                                                              "0") != "0"
        return bool(declared)


def ambiguous_framing(headers: Any) -> bool:
    """Both ``Content-Length`` and ``Transfer-Encoding``: a request smuggling shape.

    RFC 9112 §6.3: such a message "ought to be handled as an error", and the connection
    closed, since a proxy in front may have framed the body the other way.
    """
    return "Content-Length" in headers and "Transfer-Encoding" in headers


class BackpressureHTTPConnection(TrioASGIHTTPConnection):
    """Quart-Trio's HTTP connection with body backpressure and sends that finish.

    With hypercorn 0.18 the last body message of a response runs the connection's bookkeeping
    inside our ``send`` call (restart the keep-alive timer, or close after
    ``Connection: close`` and HTTP/1.0), and that bookkeeping announces ``http.disconnect``
    to the app first. Quart-Trio cancels the request on that message, which cancelled the
    bookkeeping at its next checkpoint: idle connections were never timed out and closing
    answers never closed. Here a disconnect that arrives while a send is in progress cancels
    the request only once that send has returned.
    """

    _sending = 0
    _cancel_after_send = False
    _nursery: trio.Nursery | None = None

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        async def send_then_cancel(message: ASGISendEvent) -> None:
            self._sending += 1
            try:
                await send(message)
            finally:
                self._sending -= 1
                if self._cancel_after_send and not self._sending and self._nursery:
                    self._nursery.cancel_scope.cancel()

        await super().__call__(receive, send_then_cancel)

    async def handle_messages(  # type: ignore[override]
        self, nursery: trio.Nursery, request: StreamingRequest, receive: ASGIReceiveCallable
    ) -> None:
        self._nursery = nursery
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
        if self._sending:
            self._cancel_after_send = True
        else:
            nursery.cancel_scope.cancel()
