"""The job sandbox, worker side: confined worker processes and the tools they start.

:func:`enter_worker` makes each worker process the leader of its own session (so every tool it
starts, and their children, can be found and killed by session id), lowers its memory limit
(``RLIMIT_DATA``, inherited by every tool), and ends the worker with all its tools when the web
process dies. :func:`run_in_job` runs one job inside its directory (cwd and ``TMPDIR``) and
turns a memory limit hit into :class:`ResourceLimitHit` and a retired worker.
:func:`tool_spawn_options` are the ``subprocess`` options for any external program a job
starts: its own process group inside the worker's session, killed by the kernel
(``PR_SET_PDEATHSIG``) the moment its worker dies.

The supervisor side is :mod:`kernel.sandbox`. Nothing here imports Quart or trio: this module
runs in worker processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import select
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kernel.causes import find_cause
from kernel.sandbox import WORKER_PREFIX, kill_session

T = TypeVar("T")

#: Linux ``prctl`` option: signal sent to this process when its parent thread exits.
PR_SET_PDEATHSIG = 1


class ResourceLimitHit(Exception):
    """A job ran out of its worker's memory limit; the worker is retired after it."""


_STATE: dict[str, Any] = {"retire": False, "recycle_rss": 0}


def _libc_prctl() -> Callable[..., int]:
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def _end_own_session() -> None:
    kill_session(os.getsid(0), keep=os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)


def _watch_parent(parent: int) -> None:
    """Block until the web process exits, then end this worker and every tool it runs."""
    try:
        fd = os.pidfd_open(parent)
    except OSError:
        fd = -1
    if os.getppid() != parent:  # it died before we started watching
        _end_own_session()
    if fd < 0:
        return
    select.select([fd], [], [])
    _end_own_session()


def enter_worker(parent: int, instance: str, memory_limit: int = 0, recycle_rss: int = 0) -> None:
    """Confine the current worker process; run first in every worker.

    Args:
        parent: pid of the web process; when it exits, this worker and its tools are killed.
        instance: the :class:`JobRoot` directory this worker registers in.
        memory_limit: ``RLIMIT_DATA`` in bytes for the worker and every tool it starts
            (0: unlimited). ``RLIMIT_AS`` is not usable: the in-process Tika reserves ~34 GB of
            address space it never touches.
        recycle_rss: retire the worker after a job that left it above this RSS (0: never).
    """
    if os.getsid(0) != os.getpid():
        os.setsid()
    Path(instance, f"{WORKER_PREFIX}{os.getpid()}").touch()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_limit, memory_limit))
    _STATE["recycle_rss"] = recycle_rss
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch",
                     daemon=True).start()


def _die_with(parent: int, prctl: Callable[..., int]) -> None:
    """Runs in a tool's process between fork and exec: SIGKILL it when ``parent`` dies."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def tool_spawn_options() -> dict[str, Any]:
    """Keyword arguments for ``subprocess.run``/``Popen`` of any tool a job starts.

    The tool gets its own process group (so :func:`kill_tool_group` ends it and its children)
    inside the worker's session (so the supervisor's :func:`kill_session` finds it), and dies
    with the process that started it. Its memory limit is the worker's (limits are inherited).
    """
    prctl = _STATE.get("prctl") or _STATE.setdefault("prctl", _libc_prctl())
    return {"process_group": 0, "close_fds": True,
            "preexec_fn": functools.partial(_die_with, os.getpid(), prctl)}


def kill_tool_group(pgid: int) -> None:
    """End whatever is left of a tool's process group (its children) after it returned."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_tool(args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    """Run an external program for a job and return its output (``subprocess.run``-like).

    The program runs confined (see :func:`tool_spawn_options`) with no stdin; whatever is left
    of its process group when it returns is killed.

    Raises:
        FileNotFoundError: the program does not exist.
        subprocess.CalledProcessError: it exited with a non-zero status.
    """
    argv = list(args)
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, **tool_spawn_options()) as proc:
        try:
            out, err = proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
            kill_tool_group(proc.pid)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, argv, out, err)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def warm_up() -> int:
    """A job that does nothing but start its worker (defined here, in a module workers load
    anyway: unpickling a function imports its module, and the pool's own module would bring
    the web stack into every worker)."""
    return os.getpid()


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def should_retire() -> bool:
    """trio-parallel's ``retire`` callback: after a limit hit, or once the worker grew too big."""
    if _STATE["retire"]:
        return True
    limit = _STATE["recycle_rss"]
    return bool(limit) and _rss() > limit


class _InJob:
    """Points a worker's cwd and temporary directory into a job's directory, then back."""

    def __init__(self, job: Path):
        self.job = job
        self.saved: tuple[str, str | None, str | None] | None = None

    def __enter__(self) -> None:
        tmp = str(self.job)
        self.saved = (os.getcwd(), os.environ.get("TMPDIR"), tempfile.tempdir)
        os.chdir(self.job)
        os.environ["TMPDIR"] = tmp
        tempfile.tempdir = tmp

    def __exit__(self, *exc: object) -> None:
        assert self.saved is not None
        cwd, env, tmp = self.saved
        os.chdir(cwd)
        if env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = env
        tempfile.tempdir = tmp


def run_in_job(job: str, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` in a worker, inside the job directory ``job``.

    Raises:
        ResourceLimitHit: the job exhausted the worker's memory (the worker is then retired).
    """
    try:
        with _InJob(Path(job)):
            return fn(*args)
    except Exception as exc:
        if find_cause(exc, MemoryError) is not None:
            _STATE["retire"] = True
            raise ResourceLimitHit() from None
        raise
