"""The job sandbox, supervisor side: a private directory per job, and the end of every
process a dead worker left behind.

Every worker job processes a stranger's file, so the pool confines it. :class:`JobRoot`
(used by the web process) gives each job an empty, private directory (mode 0700) under this
instance's work root, holding only the job's own input (a hard link or copy, never a path into
storage) and the job's temporary files. The supervisor empties it after the job, whatever
happened to the worker, and keeps it for a later job only if the job ended normally; start-up
removes what a crashed instance left. Each worker registers
its pid there once; after a job that did not end normally (time limit, cancellation, crash:
its worker is dead by then), :meth:`JobRoot.end_dead_workers` kills the sessions of the
registered workers that are gone, that is every tool and child they left behind.

The worker side is :mod:`kernel.sandbox_worker`. Nothing here imports Quart or trio.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path

#: Per-instance directory names under the work root: ``i<pid of the web process>-<random>``.
INSTANCE_PREFIX = "i"
#: In an instance directory: ``w<pid>`` registers a worker (its pid is its session id).
WORKER_PREFIX = "w"
#: Emptied job directories kept for later jobs. Each job that reuses one saves an inode
#: allocation and an inode release (a ``mkdir`` and an ``rmdir``); on a file system without a
#: journal (ext4 ``nojournal``) every allocation first skips each inode freed in the last
#: minutes, which made per-job directories a third of the web process's CPU at 100 jobs/s.
SPARE_JOB_DIRS = 32


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
        self._spare: list[Path] = []

    def start(self) -> None:
        """Create this instance's directory, after removing those of dead instances."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        remove_stale_instances(self.root)
        self.path = Path(tempfile.mkdtemp(
            prefix=f"{INSTANCE_PREFIX}{os.getpid()}-", dir=self.root))

    def stop(self) -> None:
        self._spare.clear()
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None

    def take_spare(self) -> Path | None:
        """An emptied job directory kept from an earlier job, if any (no disk access)."""
        return self._spare.pop() if self._spare else None

    def new_job(self) -> Path:
        """An empty private directory (0700) for one job: a spare one, or a new one."""
        if self.path is None:
            raise RuntimeError("the job root is not started")
        spare = self.take_spare()
        if spare is not None:
            return spare
        job = self.path / f"j{secrets.token_hex(8)}"
        job.mkdir(mode=0o700)
        return job

    def end_job(self, job: Path, *, reuse: bool) -> None:
        """Remove everything the job left; keep the emptied directory as a spare if ``reuse``.

        Only a job that ended normally may pass ``reuse``: after a time limit, a cancellation
        or a crash a killed tool could still write, so that directory is removed whole.
        """
        if reuse and len(self._spare) < SPARE_JOB_DIRS and _emptied(job):
            self._spare.append(job)
        else:
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


def _emptied(job: Path) -> bool:
    """Delete the contents of ``job`` and reset its mode; whether it is now an empty 0700
    directory (anything that could not be removed, or a changed owner, rules it out)."""
    try:
        with os.scandir(job) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
        os.chmod(job, 0o700, follow_symlinks=False)
        info = os.lstat(job)
        with os.scandir(job) as entries:
            return (next(entries, None) is None and info.st_uid == os.geteuid()
                    and stat.S_ISDIR(info.st_mode))
    except OSError:
        return False


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
