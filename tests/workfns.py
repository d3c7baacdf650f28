"""Plain functions run in real worker processes by the worker-pool tests."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def add(a: int, b: int) -> int:
    return a + b


def fail(message: str) -> None:
    raise ValueError(message)


def pid() -> int:
    return os.getpid()


def nap(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def die_once(marker: str) -> str:
    """Kill this worker the first time (leaving a marker), succeed when retried."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def spawn_sleepers(count: int, seconds: int) -> list[int]:
    """Start ``count`` confined tools (``sleep``) that outlive this job unless it is ended."""
    import subprocess

    from kernel.sandbox_worker import tool_spawn_options

    pids = []
    for _ in range(count):
        proc = subprocess.Popen(["sleep", str(seconds)], **tool_spawn_options())
        pids.append(proc.pid)
    return pids


def hang_in_tool(seconds: int | str) -> None:
    """Run a confined tool (``sleep``) that takes ``seconds``, as a job stuck in ffmpeg does."""
    from kernel import run_tool

    run_tool(["sleep", str(seconds)])


def grandchild_in_tool(marker: str, seconds: int | str) -> None:
    """A tool that starts a child in the background, notes its pid and exits at once."""
    from kernel import run_tool

    run_tool(["sh", "-c", f"sleep {seconds} >/dev/null 2>&1 & echo $! > {marker}"])


def job_environment() -> dict[str, str]:
    """Where a job runs: its working directory and temporary directory."""
    import tempfile

    return {"cwd": os.getcwd(), "tmp": tempfile.gettempdir(), "env": os.environ["TMPDIR"],
            "sid": str(os.getsid(0)), "pid": str(os.getpid())}


def leave_temp_files() -> str:
    """Leave a temporary directory and file behind, as iscc-sdk does for some media."""
    import tempfile

    folder = tempfile.mkdtemp()
    Path(folder, "frame.png").write_bytes(b"x" * 1000)
    return folder


def allocate(megabytes: int) -> int:
    """Allocate and touch ``megabytes`` MiB (a job that exceeds the memory limit)."""
    block = bytearray(megabytes << 20)
    return len(block)


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def data_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_DATA)[0]


def die_after_spawning(marker: str, seconds: int | str, confined: bool) -> None:
    """Start a ``sleep`` (as a confined tool, or as a plain child), note its pid, then die."""
    import subprocess

    from kernel.sandbox_worker import tool_spawn_options

    options = tool_spawn_options() if confined else {}
    proc = subprocess.Popen(["sleep", str(seconds)], **options)
    with open(marker, "a") as fh:
        fh.write(f"{proc.pid}\n")
    os.kill(os.getpid(), signal.SIGKILL)


def spawn_and_wait(marker: str, seconds: int | str) -> None:
    """Run a confined ``sleep``; note "<worker pid> <tool pid>" once it runs."""
    import subprocess

    from kernel.sandbox_worker import tool_spawn_options

    proc = subprocess.Popen(["sleep", str(seconds)], **tool_spawn_options())
    Path(marker + ".tmp").write_text(f"{os.getpid()} {proc.pid}")
    os.rename(marker + ".tmp", marker)
    proc.wait()


_KEPT: list[bytes] = []


def grow(megabytes: int) -> int:
    """Keep ``megabytes`` MiB resident in this worker (a worker whose heap grew)."""
    _KEPT.append(b"\1" * (megabytes << 20))
    return rss()
def nap_recording_pid(path: str, seconds: float) -> int:
    """Write this worker's pid to ``path`` (so a test can kill it from outside), then sleep."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()


def iscc_job_logging_to(path: str, log_path: str) -> str:
    """The service's ISCC job with the processing log written to ``log_path``; the job's
    client-safe detail (or ``"ok"``)."""
    import logging

    from plugins._processing.errors import ProcessingFailed
    from plugins._processing.work import iscc_job

    handler = logging.FileHandler(log_path)
    logger = logging.getLogger("iscc_web.processing")
    logger.addHandler(handler)
    try:
        iscc_job(path, False, None)
    except ProcessingFailed as exc:
        return exc.detail
    finally:
        logger.removeHandler(handler)
        handler.close()
    return "ok"


def job_listing() -> list[str]:
    """Everything in the job's directory (relative paths), as the job sees it."""
    return sorted(str(p.relative_to(os.getcwd())) for p in Path(os.getcwd()).rglob("*"))


def leave_hostile_leftovers() -> str:
    """Leave what a misbehaving parser might: a read-only subdirectory, a symlink out of the
    job, a file without permissions, and a changed directory mode."""
    cwd = Path(os.getcwd())
    sub = cwd / "deep" / "er"
    sub.mkdir(parents=True)
    (sub / "frame.png").write_bytes(b"x")
    os.chmod(cwd / "deep", 0o500)
    (cwd / "outside").symlink_to("/etc")
    locked = cwd / "locked.bin"
    locked.write_bytes(b"secret of this job")
    os.chmod(locked, 0)
    os.chmod(cwd, 0o755)
    return str(cwd)
