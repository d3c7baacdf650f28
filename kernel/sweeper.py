"""Expiry: delete packages older than ``storage_expiry``, every ``cleanup_interval`` seconds."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import trio
from quart import Quart

from kernel.context import runtime_of
from kernel.hookspecs import hookimpl

log = logging.getLogger("iscc_web.sweeper")


async def sweep_once(app: Quart) -> int:
    """One sweep; failures are logged, never raised (the server must keep running)."""
    rt = runtime_of(app)
    rt.counters.sweeps += 1
    try:
        deleted = await rt.counted_storage.sweep(rt.settings.kernel.storage_expiry)
    except Exception as exc:  # a broken sweep must not stop the server
        rt.counters.sweep_failures += 1
        log.error("sweep failed: %r", exc)
        return 0
    rt.counters.swept += deleted
    if deleted:
        log.info("sweeper deleted %d expired package(s)", deleted)
    return deleted


async def _sweep_forever(app: Quart, interval: float) -> None:
    while True:
        await sweep_once(app)
        await trio.sleep(interval)


@hookimpl
def lifespan(app: Quart) -> AbstractAsyncContextManager[None] | None:
    interval = runtime_of(app).settings.kernel.cleanup_interval
    if not interval:
        log.warning("Upload cleanup deactivated")
        return None
    return _running(app, interval)


@asynccontextmanager
async def _running(app: Quart, interval: float) -> AsyncIterator[None]:
    scope = trio.CancelScope()

    async def task() -> None:
        with scope:
            await _sweep_forever(app, interval)

    app.nursery.start_soon(task)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        scope.cancel()
