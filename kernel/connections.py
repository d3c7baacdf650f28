"""Connection handling the server must get right, where hypercorn 0.18 does not (yet).

Each piece replaces one hypercorn class by a subclass; :func:`install` puts them in place
(process-wide, idempotent) before a server starts. Checked against hypercorn 0.18.0:

- **Idle timer.** hypercorn stops a connection's idle task when a request arrives and starts a
  new one (``nursery.start``: a task spawned, run to ``started`` and the old one cancelled)
  when the answer is out: ~40-60 us of every keep-alive request on this machine, more than a
  404 costs the app. :class:`IdleTimer` keeps one task per connection and moves the deadline
  of its cancel scope instead, with hypercorn's rules: an idle connection is closed after
  ``keep_alive_timeout``, and at shutdown as soon as it is idle (never during a request).

- **One write per answer.** hypercorn writes an answer's head and its body with one
  ``send`` each: two TCP segments, and two wake-ups of the client, for every small answer.
  Inside :func:`one_write` (the app's sending of a body it holds whole) the bytes are
  collected and written together; answers that stream are written as they come.

- **Send timeout.** ``TCPServer.protocol_send`` writes each response chunk under a *shielded*
  cancel scope with no deadline, so a client that stops reading holds the response, its task
  and the file it streams forever. :class:`SendTimeoutTCPServer` gives every write a deadline
  (``send_timeout`` seconds without the client taking :data:`SEND_PIECE` bytes, like nginx's
  ``send_timeout``) and then closes the connection, which ends the app's response task and
  releases the file.
- **100 Continue.** ``H11Protocol`` answers ``Expect: 100-continue`` as soon as the request
  head is parsed, before the app can look at it, so a client announcing 1 TB is invited to
  send before it gets the 413. :class:`EdgeConnection` withholds the 100 when the declared
  ``Content-Length`` is larger than the largest body any route accepts.
- **Bytes after a closing message.** Once a request says the connection ends after it (its
  own ``Connection: close``, HTTP/1.0, or our answer's), h11 raises on any further byte and
  hypercorn then closes the socket at once, even while the app is still sending its answer:
  a pipelined or smuggled request after a rejected one made the client lose the rejection.
  :class:`EdgeConnection` ignores what follows such a message (RFC 9112 §9.6) until the
  answer is out, and then reports the connection closed.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import h11
import hypercorn.protocol as hypercorn_protocol
import hypercorn.trio.run as hypercorn_run
import trio
from hypercorn.events import Closed, Event, RawData
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.typing import Event as ServerEvent

#: Bytes written per deadline: the client must take this much every ``send_timeout`` seconds.
SEND_PIECE = 256 * 1024


class IdleTimer:
    """A connection's idle task as hypercorn drives it (its ``SingleTask``: ``restart`` when
    the connection goes idle, ``stop`` when a request arrives), one task per connection."""

    def __init__(self, keep_alive_timeout: float, terminated: ServerEvent):
        self._timeout = keep_alive_timeout
        self._terminated = terminated
        self._scope = trio.CancelScope()  # its deadline moves; entered by the one task
        self._busy = False
        self._started = False
        self._closed = False
        self._idle_again: trio.Event | None = None

    async def restart(self, task_group: Any, action: Callable[[], Awaitable[None]]) -> None:
        """The connection is idle: ``action`` (closing it) runs after the timeout."""
        self._busy = False
        self._scope.deadline = trio.current_time() + self._timeout
        if self._idle_again is not None:
            self._idle_again.set()
        if not self._started:
            self._started = True
            task_group.spawn(self._run, action)

    async def stop(self) -> None:
        """A request is in progress: no timeout, and shutdown waits for its answer."""
        self._busy = True
        self._scope.deadline = math.inf

    def close(self) -> None:
        """The connection is closing: nothing left to time."""
        self._closed = True
        self._scope.cancel()

    async def _run(self, action: Callable[[], Awaitable[None]]) -> None:
        with self._scope:
            await self._terminated.wait()  # the server shuts down ...
            while self._busy:  # ... and closes the connection once its answer is out
                self._idle_again = trio.Event()
                await self._idle_again.wait()
        if not self._closed:
            await action()


class SendTimeoutTCPServer(TCPServer):
    """hypercorn's TCP server with a deadline on every write to a client, an
    :class:`IdleTimer`, and writes held back while :func:`one_write` collects them."""

    #: Bytes collected for one write (``None``: each chunk is written as it comes).
    _held: bytearray | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.idle_timer = IdleTimer(self.config.keep_alive_timeout, self.context.terminated)
        self.idle_task = self.idle_timer  # type: ignore[assignment] # hypercorn's name

    async def run(self) -> None:
        # hypercorn spawns each request's app task from this task: the task inherits this
        _CONNECTION.set(self)
        await super().run()

    @asynccontextmanager
    async def holding(self) -> AsyncIterator[Callable[[], Awaitable[None]]]:
        """Within the block, bytes for the client are collected; they are written when the
        block calls the function it is given (``release``), or at its end."""
        if self._held is not None:  # already collecting: the outer block releases
            yield _nothing
            return
        self._held = bytearray()

        async def release() -> None:
            held, self._held = self._held, None
            if held:  # even when the request is being cancelled (a client that hung up):
                # the app's sends have returned, so the bytes must go out; each write has
                # its own deadline (send_timeout)
                with trio.CancelScope(shield=True):
                    await self._write(held)

        try:
            yield release
        finally:
            await release()

    async def _idle_timeout(self) -> None:
        """Close the connection (the timer decided when: :class:`IdleTimer`)."""
        with trio.CancelScope(shield=True):
            await self._initiate_server_close()

    async def protocol_send(self, event: Event) -> None:
        if isinstance(event, RawData):
            if self._held is None:
                await self._write(event.data)
            else:
                self._held += event.data
            return
        if self._held:  # what is collected goes out before the connection changes state
            held, self._held = self._held, bytearray()
            await self._write(held)
        if isinstance(event, Closed):
            self.idle_timer.close()
        await super().protocol_send(event)

    async def _write(self, raw: bytes | bytearray) -> None:
        timeout: float = getattr(self.config, "send_timeout", None) or float("inf")
        data = memoryview(raw)
        async with self.send_lock:
            stalled = False
            try:
                for start in range(0, len(data), SEND_PIECE):
                    # shielded as in hypercorn (a half-written response must not be left by
                    # a cancelled app task), but no longer without end
                    with trio.CancelScope(shield=True) as scope:
                        scope.deadline = trio.current_time() + timeout
                        await self.stream.send_all(data[start:start + SEND_PIECE])
                    if scope.cancelled_caught:
                        stalled = True
                        break
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                await self.protocol.handle(Closed())
                return
            if stalled:
                await self.protocol.handle(Closed())
                with trio.CancelScope(shield=True):
                    await self.stream.aclose()


#: The connection whose request the current task answers (set in its server's task).
_CONNECTION: ContextVar[SendTimeoutTCPServer | None] = ContextVar(
    "iscc_web_connection", default=None)


async def _nothing() -> None:
    return None


@asynccontextmanager
async def one_write() -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """What the current request's answer sends within the block reaches the client in one
    write (one TCP segment for a small answer instead of one for the head and one for the
    body): when the block calls the function it is given, or at its end.

    Only for an answer whose bytes are all at hand (a streamed answer held back would reach
    its client late), and release it before the answer's last message: that message runs the
    connection's bookkeeping, which may wait for the request's reader. Outside our server
    (tests' ASGI clients) it does nothing.
    """
    connection = _CONNECTION.get()
    if connection is None:
        yield _nothing
        return
    async with connection.holding() as release:
        yield release


def declared_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


#: Our states while an answer is still being sent.
_ANSWERING = (h11.IDLE, h11.SEND_RESPONSE, h11.SEND_BODY)


class EdgeConnection(h11.Connection):
    """An h11 server connection that invites no oversize body and reads nothing after a
    closing message (see the module docstring)."""

    def __init__(self, *args: Any, body_limit: int | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.body_limit = body_limit
        self._oversize = False

    @property
    def they_are_waiting_for_100_continue(self) -> bool:  # type: ignore[override]
        return super().they_are_waiting_for_100_continue and not self._oversize

    def next_event(self) -> Any:
        if self.their_state is h11.MUST_CLOSE:  # the client's last message is complete
            return h11.PAUSED if self.our_state in _ANSWERING else h11.ConnectionClosed()
        event = super().next_event()
        if isinstance(event, h11.Request):
            length = declared_length(event)
            self._oversize = (self.body_limit is not None and length is not None
                              and length > self.body_limit)
        return event


class EdgeH11Protocol(H11Protocol):
    """hypercorn's HTTP/1.1 protocol on an :class:`EdgeConnection`."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.connection = EdgeConnection(
            h11.SERVER, max_incomplete_event_size=self.config.h11_max_incomplete_size,
            body_limit=getattr(self.config, "max_body_size", None),
        )


def install() -> None:
    """Put the subclasses where hypercorn 0.18 looks its classes up (module globals)."""
    hypercorn_run.TCPServer = SendTimeoutTCPServer  # type: ignore[misc]
    hypercorn_protocol.H11Protocol = EdgeH11Protocol  # type: ignore[misc]
