"""Several HTTP processes on one port (``[kernel] http_processes``), sharing one host's budget.

With ``http_processes = N`` the ``iscc-web`` command becomes a small supervisor: it starts N
copies of itself, each a whole server (event loop, app, its share of the worker pool) listening
on the same address with ``SO_REUSEPORT``, so the operating system spreads connections over
them. The budget stays the host's: ``max_workers`` and ``max_queue`` are divided among the
processes, not multiplied, and only the first one runs the sweeper. SIGINT or SIGTERM to the
supervisor reaches each server once; each drains its requests (``graceful_timeout``) and stops
its workers, and the supervisor exits when all have. If one server dies, the supervisor stops
the others and exits non-zero; servers die with a supervisor that is killed.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence

from kernel.config import ConfigError, KernelSettings

log = logging.getLogger("iscc_web")

_PR_SET_PDEATHSIG = 1


def shares(total: int, count: int) -> list[int]:
    """``total`` split into ``count`` parts that differ by at most one (larger ones first)."""
    return [total // count + (index < total % count) for index in range(count)]


def process_overrides(kernel: KernelSettings, count: int) -> list[dict[str, str]]:
    """The ``ISCC_WEB_*`` overrides that make each of ``count`` servers its share of the host.

    Raises:
        ConfigError: fewer worker processes than HTTP processes (each needs one).
    """
    workers = kernel.max_workers or os.cpu_count() or 1
    if workers < count:
        raise ConfigError(f"[kernel] http_processes = {count} needs max_workers >= {count} "
                          f"(the host's {workers} worker(s) are shared among the processes)")
    return [
        {"ISCC_WEB_HTTP_PROCESSES": "1",
         "ISCC_WEB_MAX_WORKERS": str(own_workers),
         "ISCC_WEB_MAX_QUEUE": str(own_queue),
         "ISCC_WEB_CLEANUP_INTERVAL": str(kernel.cleanup_interval if index == 0 else 0)}
        for index, (own_workers, own_queue) in enumerate(
            zip(shares(workers, count), shares(kernel.max_queue, count), strict=True))
    ]


def reuse_port_bind(bind: str) -> str:
    """Bind ``HOST:PORT`` with ``SO_REUSEPORT`` and return it as hypercorn's ``fd://`` bind."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, int(port)))
    except BaseException:
        sock.close()
        raise
    return f"fd://{sock.detach()}"


def _die_with_parent() -> None:
    # runs in the child before exec: SIGTERM it when the supervisor goes away, however it goes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def supervise(server_args: Sequence[str], overrides: Sequence[dict[str, str]]) -> int:
    """Run one ``python -m kernel SERVER_ARGS --reuse-port`` per entry of ``overrides``.

    Returns the exit status: 0 when every server stopped cleanly after a signal.
    """
    servers: dict[int, subprocess.Popen] = {}
    stopping = False
    status = 0

    def stop(signum: int = signal.SIGTERM, _frame: object = None) -> None:
        nonlocal stopping
        if not stopping:
            log.info("stopping %d HTTP processes", len(servers))
        stopping = True
        for server in servers.values():
            if server.returncode is None:
                server.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for env in overrides:
            server = subprocess.Popen(
                [sys.executable, "-m", "kernel", *server_args, "--reuse-port"],
                env={**os.environ, **env}, process_group=0, preexec_fn=_die_with_parent)
            servers[server.pid] = server
        while any(server.returncode is None for server in servers.values()):
            pid, wait_status = os.waitpid(-1, 0)
            child = servers.get(pid)
            if child is None:
                continue
            child.returncode = os.waitstatus_to_exitcode(wait_status)
            if child.returncode != 0:
                status = status or (child.returncode if child.returncode > 0 else 1)
            if not stopping:
                log.error("HTTP process %d exited (%d); stopping the others", pid,
                          child.returncode)
                status = status or 1
                stop()
    finally:
        stop()
        for server in servers.values():
            if server.returncode is None:
                server.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
