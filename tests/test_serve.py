"""The ``iscc-web`` command: a real process, its help, its errors and graceful shutdown."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import trio

from tests.conftest import upload_headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path, kernel_toml: str, **popen) -> tuple[subprocess.Popen, str, Path]:
    """Run ``python -m kernel`` with ``kernel_toml`` on a free port; stderr goes to a log file."""
    config = tmp_path / "plugins.toml"
    config.write_text("[kernel]\n" + kernel_toml)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "kernel", "--config", str(config),
                                 "--bind", f"127.0.0.1:{port}"], stderr=sink, **popen)
    return proc, f"http://127.0.0.1:{port}", log


def test_help_describes_the_options():
    out = subprocess.run([sys.executable, "-m", "kernel", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "--bind" in out
    assert "--config" in out


def test_configuration_error_exits_2_with_one_line(tmp_path):
    config = tmp_path / "plugins.toml"
    config.write_text("[kernel]\nmax_workers = -1\n")
    proc = subprocess.run([sys.executable, "-m", "kernel", "--config", str(config)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"iscc-web: configuration error: {config} [kernel]: max_workers must be > 0, got -1"
    )


async def test_serves_and_stops_gracefully_on_sigterm(tmp_path):
    proc, base, log = start_server(tmp_path, 'plugins = ["media", "explain"]\nmedia_path = "m"\n'
                                   "cleanup_interval = 0\nmax_workers = 1\n")
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            with trio.fail_after(20):
                while True:
                    try:
                        r = await http.get("/api/v1/-/status")
                        break
                    except httpx.ConnectError:
                        await trio.sleep(0.1)
            assert r.status_code == 200

            async def slow_body():
                yield b"a" * 1000
                proc.send_signal(signal.SIGTERM)  # shutdown starts mid-upload
                await trio.sleep(0.5)
                yield b"b" * 1000

            r = await http.post("/api/v1/media", content=slow_body(), headers=upload_headers())
            assert r.status_code == 201  # the in-flight upload finished
            media_id = r.json()["media_id"]
        assert (tmp_path / "m" / media_id / "test.txt").stat().st_size == 2000
        with trio.fail_after(20):
            while proc.poll() is None:
                await trio.sleep(0.1)
        assert proc.returncode == 0
        stderr = log.read_text()
        assert "Traceback" not in stderr
        assert "127.0.0.1:" not in stderr.replace(base.removeprefix("http://"), "")  # no client
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


async def test_signal_to_the_whole_process_group_stops_cleanly(tmp_path):
    """A service manager (or `timeout`, or Ctrl+C) signals every process of the group."""
    import os

    proc, base, log = start_server(tmp_path, 'plugins = ["media"]\nmedia_path = "m"\n'
                                   "cleanup_interval = 0\nmax_workers = 2\n"
                                   "warm_workers = true\n", start_new_session=True)
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            with trio.fail_after(30):
                while True:
                    try:
                        r = await http.get("/api/v1/-/status")
                        if r.json()["workers"]["idle"] == 2:
                            break
                    except httpx.ConnectError:
                        pass
                    await trio.sleep(0.1)
        os.killpg(proc.pid, signal.SIGTERM)
        with trio.fail_after(20):
            while proc.poll() is None:
                await trio.sleep(0.1)
        assert proc.returncode == 0
        text = log.read_text()
        assert "Traceback" not in text
        assert "did not stop cleanly" not in text
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_hypercorn_still_has_what_the_kernel_patches():
    """hypercorn 0.18 has no settings for the read size or the connection classes; the kernel
    sets them at serve time. An upgrade that moves them must fail here, not silently."""
    import inspect

    import hypercorn.protocol as protocol
    import hypercorn.trio.run as run
    import hypercorn.trio.tcp_server as tcp

    from kernel import connections
    from kernel.serve import READ_SIZE, patch_hypercorn

    assert isinstance(tcp.MAX_RECV, int)
    assert "MAX_RECV" in inspect.getsource(tcp.TCPServer), "TCPServer no longer reads MAX_RECV"
    assert "TCPServer," in inspect.getsource(run), "hypercorn.trio.run serves no TCPServer"
    assert "H11Protocol(" in inspect.getsource(protocol), "no H11Protocol lookup in protocol"
    patch_hypercorn()
    assert tcp.MAX_RECV == READ_SIZE
    assert run.TCPServer is connections.SendTimeoutTCPServer
    assert protocol.H11Protocol is connections.EdgeH11Protocol
