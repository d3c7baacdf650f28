"""Serving the app with hypercorn's trio worker, in-process (so worker processes can spawn)."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import trio
from hypercorn.config import Config as HyperConfig
from hypercorn.trio import serve

from kernel import connections
from kernel.app import IsccWebApp
from kernel.config import KernelSettings

#: Largest request head (request line + headers) accepted; larger gets the connection closed.
MAX_HEADER_BYTES = 16 * 1024


def bind_from_site_address(site_address: str) -> str:
    parts = urlsplit(site_address)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or '127.0.0.1'}:{port}"


#: Bytes hypercorn asks the socket for per read. Its fixed 64 KiB made every large upload cost
#: ~16,000 trips through h11 and the ASGI queue per GiB; 1 MiB reads more than doubled upload
#: throughput (bench/bench_upload.py). With ``max_app_queue_size = 2`` and the 1 MiB
#: backpressure of kernel.asgi, a slow upload holds at most ~4 MiB of server memory.
READ_SIZE = 1 << 20


def patch_hypercorn() -> None:
    """What hypercorn 0.18 offers no setting for, applied once per process at serve time.

    Its trio server reads ``tcp_server.MAX_RECV`` on every receive, and looks its TCP server
    and HTTP/1 protocol classes up as module globals (see :mod:`kernel.connections`).
    tests/test_serve.py fails if an upgrade removes either hook.
    """
    import hypercorn.trio.tcp_server as tcp

    tcp.MAX_RECV = READ_SIZE
    connections.install()


async def serve_hypercorn(app: IsccWebApp, config: HyperConfig, *,
                          shutdown_trigger: Callable[..., Awaitable[None]],
                          task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
                          ) -> None:
    """``hypercorn.trio.serve`` with the kernel's patches; ``task_status`` gets the binds."""
    patch_hypercorn()
    await serve(app, config, shutdown_trigger=shutdown_trigger,  # type: ignore[arg-type]
                task_status=task_status)


def hypercorn_config(kernel: KernelSettings, bind: str | None) -> HyperConfig:
    config = HyperConfig()
    config.bind = [bind or bind_from_site_address(kernel.site_address)]
    config.accesslog = None  # the app logs requests itself, with the owner hash only
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = kernel.graceful_timeout
    config.h11_max_incomplete_size = MAX_HEADER_BYTES
    config.include_server_header = False
    config.keep_alive_timeout = kernel.keep_alive_timeout
    config.max_app_queue_size = 2
    # read by kernel.connections (hypercorn 0.18 has neither)
    config.send_timeout = kernel.send_timeout  # type: ignore[attr-defined]
    config.max_body_size = kernel.max_upload_size  # type: ignore[attr-defined]
    return config


async def _until_signalled(cancel_on: trio.Event | None = None) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            name = signal.Signals(signum).name
            logging.getLogger("iscc_web").info("received %s, shutting down", name)
            return


def freeze_startup_objects() -> None:
    """Exempt everything alive now (modules, the app, its plugins) from garbage collection.

    The collector's full passes walk every tracked object; with the web stack, iscc-core and
    the plugins loaded that is ~80,000 objects, and a pass every few thousand requests cost
    ~20-50 us per request under load (bench explain). Collected first, so no garbage is kept.
    """
    gc.collect()
    gc.freeze()


async def serve_app(app: IsccWebApp, config: HyperConfig) -> None:
    """Serve until SIGINT or SIGTERM, then let in-flight requests finish (graceful timeout)."""
    freeze_startup_objects()
    await serve_hypercorn(app, config, shutdown_trigger=_until_signalled)
