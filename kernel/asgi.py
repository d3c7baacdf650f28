"""Request bodies with backpressure.

Quart's receive loop appends every body message to an unbounded buffer. Here the loop stops
pulling from the server while more than :data:`HIGH_WATER` bytes wait unread, so a slow consumer
(a disk, a worker) slows the client down instead of growing the server's memory.
"""

from __future__ import annotations

from collections.abc import Set
from functools import cached_property
from typing import Any

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent
from quart.wrappers.response import DataBody, Response
from quart_trio.asgi import TrioASGIHTTPConnection
from quart_trio.wrappers.request import TrioBody, TrioRequest

from kernel.connections import one_write

#: Unread request bytes at which the server stops reading from the socket.
HIGH_WATER = 1 << 20
#: Largest body written together with its head (a copy of head and body is made for that).
ONE_WRITE_LIMIT = 64 * 1024


class BackpressureBody(TrioBody):
    """A request body that tells its producer when the consumer has taken the data."""

    #: Set when the consumer takes data; made only once the producer waits (most bodies
    #: are small and never wait, and an Event per request costs).
    _taken: trio.Event | None = None

    @property
    def buffered(self) -> int:
        return len(self._data)

    async def wait_taken(self) -> None:
        """Wait until the consumer has taken the buffered bytes."""
        self._taken = trio.Event()
        await self._taken.wait()

    def _took(self) -> None:
        if self._taken is not None:
            self._taken.set()

    async def __anext__(self) -> bytes:
        try:
            return await super().__anext__()
        finally:
            self._took()

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
        self._took()
        return data  # type: ignore[return-value]


class StreamingRequest(TrioRequest):
    body_class = BackpressureBody

    @cached_property
    def header_names(self) -> frozenset[bytes]:
        """The lower-case names of the headers the client sent, for presence checks.

        One pass over the ASGI scope: werkzeug's ``name in request.headers`` and
        ``request.headers.get(name)`` raise and catch a ``KeyError`` for every absent name.
        """
        return frozenset(name.lower() for name, _ in self.scope["headers"])

    @property
    def body_unread(self) -> bool:
        """True when the client declared a body that has not fully arrived.

        A response sent now must close the connection: the rest of the body would otherwise
        be queued for an app that no longer reads it, stalling the connection.
        """
        if self.body._complete.is_set():  # the usual case: no header lookups
            return False
        names = self.header_names
        if b"transfer-encoding" in names and self.headers.get("Transfer-Encoding"):
            return True
        return b"content-length" in names and self.headers.get("Content-Length") != "0"


def ambiguous_framing(header_names: Set[bytes]) -> bool:
    """Both ``Content-Length`` and ``Transfer-Encoding`` (lower-case names sent): a request
    smuggling shape.

    RFC 9112 §6.3: such a message "ought to be handled as an error", and the connection
    closed, since a proxy in front may have framed the body the other way.
    """
    return b"content-length" in header_names and b"transfer-encoding" in header_names


class BackpressureHTTPConnection(TrioASGIHTTPConnection):
    """Quart-Trio's HTTP connection with body backpressure, sends that finish, and a whole
    answer in one write.

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

    async def _send_response(self, send: ASGISendCallable, response: Any) -> None:
        """A small answer held whole (``DataBody``: JSON, problems) goes out in one write,
        head and body together, before its closing message; others as they come."""
        body = response.response if isinstance(response, Response) else None
        if not (isinstance(body, DataBody) and len(body.data) <= ONE_WRITE_LIMIT):
            await super()._send_response(send, response)
            return
        async with one_write() as release:
            async def send_whole(message: ASGISendEvent) -> None:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    await release()
                await send(message)

            await super()._send_response(send_whole, response)

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
