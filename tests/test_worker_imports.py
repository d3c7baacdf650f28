"""Worker processes of the real server program carry no web stack.

Workers are spawned: each one imports what it is given to run (its initialiser, the job
function) and, for the ``iscc-web`` script, the script itself. None of that may pull in
Quart, hypercorn and their dependencies, which would cost every worker ~15-20 MB and its
start-up time. The marker is markupsafe's compiled extension (loaded with Quart's Jinja):
a shared object shows in ``/proc/<pid>/maps`` once its module is imported.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.server_process import free_port, server_process

ROOT = Path(__file__).resolve().parent.parent
MARKER = "markupsafe"


def _maps(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _server_pid(port: int) -> int:
    """The process listening on ``port`` (found through its socket inode)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # LISTEN
            inodes.add(fields[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            return int(entry.name)
    raise AssertionError(f"nobody listens on {port}")


@pytest.mark.parametrize("command", [
    [str(Path(sys.executable).with_name("iscc-web"))],
    [sys.executable, "-m", "kernel"],
], ids=["iscc-web script", "python -m kernel"])
def test_warm_workers_of_the_server_program_load_no_web_stack(tmp_path: Path,
                                                              command: list[str]) -> None:
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed")
    port = free_port()
    env = {**os.environ, "ISCC_WEB_MEDIA_PATH": str(tmp_path / "media"),
           "ISCC_WEB_WARM_WORKERS": "true", "ISCC_WEB_MAX_WORKERS": "2",
           "ISCC_WEB_LOG_LEVEL": "WARNING", "ISCC_WEB_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("[kernel]\n")
    with server_process([*command, "--bind", f"127.0.0.1:{port}"],
                        ready_url=f"http://127.0.0.1:{port}/healthz", log_path=tmp_path / "log",
                        cwd=ROOT, env=env, name="server"):
        server = _server_pid(port)
        assert MARKER in _maps(server)  # the marker is real: the web process has it
        deadline = time.monotonic() + 60  # a bound for slow machines, not a timing assertion
        workers: list[int] = []
        while time.monotonic() < deadline:
            workers = [p for p in _children(server) if "spawn_main" in
                       Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")]
            # warm: the processing initialiser has run (iscc-lib's native module is loaded)
            if len(workers) >= 2 and all("iscc_lib" in _maps(p) for p in workers):
                break
            time.sleep(0.2)
        assert len(workers) >= 2, "the warm workers did not start"
        assert all("iscc_lib" in _maps(p) for p in workers), "the workers did not warm up"
        for pid in workers:
            assert MARKER not in _maps(pid), f"worker {pid} loaded the web stack"
