"""``http_processes``: N real servers on one port, one host's worker budget, clean stops."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from kernel.config import ConfigError, KernelSettings
from kernel.processes import process_overrides, shares
from tests.s3_cluster import toml_document
from tests.s3_fixtures import free_ports

ROOT = Path(__file__).resolve().parent.parent


def test_shares_split_the_budget_and_one_process_sweeps():
    assert shares(5, 2) == [3, 2]
    assert shares(2, 2) == [1, 1]
    assert shares(0, 3) == [0, 0, 0]
    kernel = KernelSettings(max_workers=5, max_queue=9, cleanup_interval=600)
    overrides = process_overrides(kernel, 3)
    assert [int(o["ISCC_WEB_MAX_WORKERS"]) for o in overrides] == [2, 2, 1]
    assert sum(int(o["ISCC_WEB_MAX_QUEUE"]) for o in overrides) == 9
    assert [o["ISCC_WEB_CLEANUP_INTERVAL"] for o in overrides] == ["600", "0", "0"]
    assert {o["ISCC_WEB_HTTP_PROCESSES"] for o in overrides} == {"1"}
    with pytest.raises(ConfigError, match="needs max_workers >= 3"):
        process_overrides(KernelSettings(max_workers=2), 3)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def tree(pid: int) -> set[int]:
    found = {pid}
    for child in children(pid):
        found |= tree(child)
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()
            and "(zombie)" not in Path(f"/proc/{pid}/status").read_text()}


def listening_inodes(port: int) -> set[str]:
    """Socket inodes in LISTEN state on ``port`` (IPv4)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


@contextmanager
def supervisor(tmp_path: Path, port: int, **kernel) -> Iterator[subprocess.Popen]:
    config = tmp_path / "plugins.toml"
    config.write_text(toml_document({"kernel": {
        "plugins": ["media", "iscc", "explain"], "media_path": str(tmp_path / "media"),
        "max_workers": 2, "cleanup_interval": 600, "log_level": "INFO", **kernel}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISCC_WEB_")}
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "kernel", "--config", str(config),
                             "--bind", f"127.0.0.1:{port}", "--http-processes", "2"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in alive(tree(proc.pid) - {proc.pid}):
            os.kill(pid, signal.SIGKILL)
        log.close()


def wait_serving(url: str, proc: subprocess.Popen, expected: int = 2) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "supervisor exited"
        servers = children(proc.pid)
        if len(servers) == expected and all(socket_inodes(s) & listening_inodes(
                int(url.rsplit(":", 1)[1])) for s in servers):
            try:
                if httpx.get(f"{url}/api/v1/-/status", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError("servers did not come up")


def test_two_processes_share_the_port_and_the_workers_and_stop_cleanly(tmp_path):
    port = free_ports(1)[0]
    url = f"http://127.0.0.1:{port}"
    with supervisor(tmp_path, port) as proc:
        wait_serving(url, proc)
        servers = children(proc.pid)
        listening = listening_inodes(port)
        # each server listens on the port with a socket of its own (SO_REUSEPORT)
        owned = [socket_inodes(server) & listening for server in servers]
        assert len(owned) == 2
        assert all(len(o) == 1 for o in owned)
        assert owned[0] != owned[1]
        for _ in range(6):  # fresh connections, spread over both
            status = httpx.get(f"{url}/api/v1/-/status", timeout=30).json()
            assert status["workers"]["max_workers"] == 1  # 2 shared by 2, not 2 each
            assert status["workers"]["max_queue"] == 32
        name = base64.b64encode(b"blob.bin").decode()
        for _ in range(4):
            r = httpx.post(f"{url}/api/v1/iscc", content=os.urandom(5000), timeout=120,
                           headers={"X-Upload-Filename": name})
            assert r.status_code == 201, r.text
        everything = tree(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        deadline = time.monotonic() + 10
        while alive(everything) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert alive(everything) == set()  # servers and their workers are gone
    log = (tmp_path / "server.log").read_text()
    assert log.count("Upload cleanup deactivated") == 1  # one sweeper for the host
    assert log.count("received SIGTERM, shutting down") == 2
    assert "Traceback" not in log


def test_a_server_that_dies_stops_the_others(tmp_path):
    port = free_ports(1)[0]
    with supervisor(tmp_path, port) as proc:
        wait_serving(f"http://127.0.0.1:{port}", proc)
        first, second = children(proc.pid)
        os.kill(first, signal.SIGKILL)
        assert proc.wait(60) != 0
        assert not alive({first, second})


def test_more_http_processes_than_workers_is_a_config_error(tmp_path):
    port = free_ports(1)[0]
    with supervisor(tmp_path, port, max_workers=1) as proc:
        assert proc.wait(60) == 2
    assert "needs max_workers >= 2" in (tmp_path / "server.log").read_text()
