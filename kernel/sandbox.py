"""The job sandbox: a private directory per job, tools that die with it, memory limits.

Every worker job processes a stranger's file, so the pool confines it:

- **Supervisor side** (the web process): :class:`JobRoot` gives each job a fresh, private
  directory (mode 0700) under this instance's work root, holding only the job's own input (a
  hard link or copy, never a path into storage) and the job's temporary files. The supervisor
  removes it after the job, whatever happened to the worker; start-up removes what a crashed
  instance left. Each worker registers its pid there once; after a job that did not end
  normally (time limit, cancellation, crash: its worker is dead by then),
  :meth:`JobRoot.end_dead_workers` kills the sessions of the registered workers that are gone,
  that is every tool and child they left behind.
- **Worker side**: :func:`enter_worker` makes each worker process the leader of its own session
  (so every tool it starts, and their children, can be found and killed by session id), lowers
  its memory limit (``RLIMIT_DATA``, inherited by every tool), and ends the worker with all its
  tools when the web process dies. :func:`run_in_job` runs one job inside its directory (cwd and
  ``TMPDIR``) and turns a memory limit hit into
  :class:`ResourceLimitHit` and a retired worker. :func:`tool_spawn_options` are the
  ``subprocess`` options for any external program a job starts: its own process group inside the
  worker's session, killed by the kernel (``PR_SET_PDEATHSIG``) the moment its worker dies.

Nothing here imports Quart or trio: the worker half runs in worker processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: Per-instance directory names under the work root: ``i<pid of the web process>-<random>``.
INSTANCE_PREFIX = "i"
#: In an instance directory: ``w<pid>`` registers a worker (its pid is its session id).
WORKER_PREFIX = "w"
#: Linux ``prctl`` option: signal sent to this process when its parent thread exits.
PR_SET_PDEATHSIG = 1


class ResourceLimitHit(Exception):
    """A job ran out of its worker's memory limit; the worker is retired after it."""


# --- supervisor side ------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_instances(root: Path) -> int:
    """Remove instance directories under ``root`` whose web process is gone; return how many."""
    removed = 0
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return 0
    for entry in entries:
        owner = entry.name[len(INSTANCE_PREFIX):].partition("-")[0]
        if not entry.name.startswith(INSTANCE_PREFIX) or not owner.isdigit():
            continue
        if int(owner) == os.getpid() or _pid_alive(int(owner)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


class JobRoot:
    """This instance's work directory: one private subdirectory per job.

    Args:
        root: The shared work root (``[kernel] work_path``, default the system temp dir);
            several instances may share it, each owns the ``i<pid>-…`` directory it made.
    """

    def __init__(self, root: Path):
        self.root = root
        self.path: Path | None = None

    def start(self) -> None:
        """Create this instance's directory, after removing those of dead instances."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        remove_stale_instances(self.root)
        self.path = Path(tempfile.mkdtemp(
            prefix=f"{INSTANCE_PREFIX}{os.getpid()}-", dir=self.root))

    def stop(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None

    def new_job(self) -> Path:
        """A fresh private directory (0700) for one job."""
        if self.path is None:
            raise RuntimeError("the job root is not started")
        job = self.path / f"j{secrets.token_hex(8)}"
        job.mkdir(mode=0o700)
        return job

    @staticmethod
    def remove_job(job: Path) -> None:
        shutil.rmtree(job, ignore_errors=True)

    def end_dead_workers(self) -> int:
        """Kill what registered workers that are gone left running; return how many processes."""
        killed = 0
        if self.path is None:
            return 0
        for entry in self.path.glob(f"{WORKER_PREFIX}*"):
            pid = entry.name[len(WORKER_PREFIX):]
            if not pid.isdigit() or _leads_session(int(pid)):
                continue
            killed += kill_session(int(pid))
            entry.unlink(missing_ok=True)
        return killed


def place_input(source: Path, job: Path, name: str) -> Path:
    """Put the job's input into its directory: a read-only hard link, or a copy.

    The job then reaches its input without any path into storage (a relative reference from the
    file resolves inside the job's own directory).
    """
    target = job / name
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    with contextlib.suppress(OSError):
        os.chmod(target, 0o444)
    return target


def _proc_stat(pid: str) -> tuple[int, int, str] | None:
    """(session id, parent pid, state) of a process, from ``/proc/<pid>/stat``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may contain anything: split after it
    fields = raw[raw.rfind(b")") + 2:].split()
    return int(fields[3]), int(fields[1]), fields[0].decode()


def _leads_session(pid: int) -> bool:
    """Whether ``pid`` is a live process leading its own session (a worker still running)."""
    stat = _proc_stat(str(pid))
    return stat is not None and stat[0] == pid and stat[2] != "Z"


def session_members(sid: int) -> list[int]:
    """Live (not zombie) processes whose session id is ``sid``."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _proc_stat(entry)
        if stat is not None and stat[0] == sid and stat[2] != "Z":
            members.append(int(entry))
    return members


def kill_session(sid: int, *, keep: int | None = None, wait: float = 2.0) -> int:
    """SIGKILL every process of session ``sid`` (a worker and all its tools); return how many.

    Repeats until the session is empty (a process forked meanwhile is caught too, and a killed
    one has really exited), for at most ``wait`` seconds. ``keep`` spares one pid (a worker
    ending its own tools).
    """
    killed: set[int] = set()
    deadline = time.monotonic() + wait
    while True:
        members = [pid for pid in session_members(sid) if pid != keep]
        if not members or time.monotonic() > deadline:
            return len(killed)
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)


# --- worker side ----------------------------------------------------------------------------

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
        if _caused_by(exc, MemoryError):
            _STATE["retire"] = True
            raise ResourceLimitHit() from None
        raise


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is ``exc`` or anywhere in its cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
