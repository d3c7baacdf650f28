"""The container image, built with scripts/build-image.sh and run for real with podman.

Skipped when podman is not installed. The image is tagged with a hash of its inputs, so only
the first run after a change builds (minutes on a fresh machine, seconds when only the
service's code changed); otherwise the fixture just finds the image. Every container and volume
a test makes is removed again.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import upload_headers
from tests.iscc_fixtures import IMAGE_SAMPLE, build_app, live_client, post_file, sample
from tests.similar_fixtures import image_variants

PODMAN = shutil.which("podman")
pytestmark = pytest.mark.skipif(
    PODMAN is None, reason="podman is not installed (scripts/setup.sh installs it): "
    "the container image is not built or tested")

ROOT = Path(__file__).resolve().parents[1]
IMAGE_ISCC = "ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY"
#: What podman needs on cgroup-v1 hosts (as in scripts/build-image.sh): runc, not crun; explicit
#: ulimits; the host's network, so the server listens on the host's loopback only.
RUN_OPTS = [
    *(["--runtime", "/usr/sbin/runc"] if os.path.exists("/usr/sbin/runc") else []),
    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "host",
    "--health-interval", "disable",  # no systemd timers here; `podman healthcheck run` instead
]
GRACEFUL_TIMEOUT = 5
#: Generous: several engineers share two cores, and warm workers import iscc-sdk first.
READY_TIMEOUT = 180


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def image() -> str:
    done = subprocess.run(["bash", "scripts/build-image.sh"], cwd=ROOT, capture_output=True,
                          text=True, timeout=3600)
    assert done.returncode == 0, f"scripts/build-image.sh failed:\n{done.stderr[-4000:]}"
    return done.stdout.split()[-1]


class Containers:
    """Starts containers of the image on free loopback ports; removes them all at the end."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.names: list[str] = []
        self.volumes: list[str] = []

    def volume(self) -> str:
        name = f"iscc-web-test-{uuid.uuid4().hex[:12]}"
        podman("volume", "create", name)
        self.volumes.append(name)
        return name

    def start(self, volume: str, *extra: str) -> tuple[str, str]:
        """Run the image with ``volume`` at /data; wait until it serves; (name, base URL)."""
        name = f"iscc-web-test-{uuid.uuid4().hex[:12]}"
        port = free_port()
        self.names.append(name)
        podman("run", "--detach", "--name", name, *RUN_OPTS, "--env", "HOST=127.0.0.1",
               "--env", f"PORT={port}", "--env", "ISCC_WEB_MAX_WORKERS=1",
               "--env", f"ISCC_WEB_GRACEFUL_TIMEOUT={GRACEFUL_TIMEOUT}",
               "--volume", f"{volume}:/data", *extra, self.image)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    return name, url
            except httpx.TransportError:
                pass
            if podman("inspect", "--format", "{{.State.Running}}", name).stdout.strip() != "true":
                break
            time.sleep(0.3)
        raise AssertionError(f"container did not serve:\n{self.logs(name)}")

    def logs(self, name: str) -> str:
        done = podman("logs", name, check=False)
        return done.stdout + done.stderr

    def remove_all(self) -> None:
        for name in self.names:
            podman("rm", "--force", "--volumes", "--time", "0", name, check=False)
        for volume in self.volumes:
            podman("volume", "rm", "--force", volume, check=False)


@pytest.fixture(scope="module")
def containers(image: str) -> Iterator[Containers]:
    made = Containers(image)
    try:
        yield made
    finally:
        made.remove_all()


@pytest.fixture(scope="module")
def server(containers: Containers) -> tuple[str, str]:
    return containers.start(containers.volume())


def upload_sample(url: str) -> dict:
    response = httpx.post(f"{url}/api/v1/iscc", content=IMAGE_SAMPLE.read_bytes(),
                          headers=upload_headers("test-image.jpg", "image/jpeg"), timeout=120)
    assert response.status_code == 201, response.text
    return response.json()


def process_tree(root: int) -> dict[int, dict[str, str]]:
    """``/proc/<pid>/status`` fields of ``root`` and all its descendants."""
    status: dict[int, dict[str, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines = (entry / "status").read_text().splitlines()
            except OSError:  # the process ended meanwhile
                continue
            status[int(entry.name)] = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in status:
            tree[pid] = status[pid]
            todo += [child for child, fields in status.items() if int(fields["PPid"]) == pid]
    return tree


def test_sample_image_gets_the_contract_iscc(server: tuple[str, str]) -> None:
    _, url = server
    assert upload_sample(url)["iscc"] == IMAGE_ISCC


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The same service on the host (this checkout), the reference for what the image computes."""
    with live_client(build_app(tmp_path_factory.mktemp("host") / "media")) as client:
        yield client


#: What the image's own parts compute: Tika's native image (documents), ffmpeg and fpcalc.
MEDIA = ["text/demo.pdf", "text/demo.docx", "audio/demo.mp3", "video/demo.mp4"]


@pytest.mark.parametrize("relative", MEDIA)
def test_documents_audio_and_video_get_the_hosts_codes(server: tuple[str, str],
                                                       host: httpx.Client, relative: str) -> None:
    _, url = server
    with httpx.Client(base_url=url, timeout=300) as client:
        answer = post_file(client, sample(relative))
    assert answer.status_code == 201, answer.text
    expected = post_file(host, sample(relative))
    assert expected.status_code == 201, expected.text
    body, reference = answer.json(), expected.json()
    assert body["mode"] == reference["mode"] == relative.split("/")[0]
    assert (body["iscc"], body["units"]) == (reference["iscc"], reference["units"])


def test_similar_group_finds_what_was_added(containers: Containers) -> None:
    """iscc-search embedded in the image: the index lives in the volume, next to the media."""
    token = uuid.uuid4().hex
    name, url = containers.start(containers.volume(),
                                 "--env", "ISCC_WEB_PLUGINS=media,iscc,explain,similar",
                                 "--env", f"ISCC_WEB_INDEX_WRITE_TOKEN={token}")
    original = sample("image/demo.jpg").read_bytes()
    with httpx.Client(base_url=url, timeout=120) as client:
        added = client.post("/api/v1/similar", content=original, params={"add": "true"},
                            headers={**upload_headers("demo.jpg", None),
                                     "Authorization": f"Bearer {token}"})
        assert added.status_code == 201, added.text
        found = client.post("/api/v1/similar", content=image_variants(original)["greyscale"],
                            headers=upload_headers("grey.jpg", None))
        assert found.status_code == 200, found.text
        top = found.json()["matches"][0]
        assert top["iscc_id"] == added.json()["iscc_id"]
        assert top["types"]["CONTENT_IMAGE_V0"] >= 0.9
        status = client.get("/api/v1/-/status").json()["similar"]
    assert (status["backend"], status["entries"]) == ("usearch", 1)
    listing = podman("exec", name, "ls", "/data/similar-index").stdout.split()
    assert listing, "the index is not in the volume"


def test_every_process_runs_as_non_root(server: tuple[str, str]) -> None:
    name, url = server
    upload_sample(url)  # the worker pool is in use, not only started
    pid = int(podman("inspect", "--format", "{{.State.Pid}}", name).stdout)
    tree = process_tree(pid)
    # tini, the server, its worker(s): nothing of it may run as root, not even saved ids
    assert len(tree) >= 3, tree
    for child, fields in tree.items():
        uids = fields["Uid"].split()
        assert "0" not in uids, f"pid {child} ({fields['Name']}) has uids {uids}"
    assert podman("exec", name, "id", "-u").stdout.strip() == "10001"


def test_healthcheck_reports_healthy(server: tuple[str, str]) -> None:
    name, _ = server
    done = podman("healthcheck", "run", name, check=False)  # fails if the image has none
    assert done.returncode == 0, done.stdout + done.stderr
    health = podman("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
    assert health == "healthy"


def test_stop_is_clean_and_a_new_container_keeps_data(containers: Containers,
                                                      tmp_path: Path) -> None:
    volume = containers.volume()
    name, url = containers.start(volume)
    media_id = upload_sample(url)["media_id"]

    # An upload is half sent when `podman stop` delivers SIGTERM: the server lets it finish
    # (201), then exits 0, well before podman would send SIGKILL (exit 137).
    half, rest = threading.Event(), threading.Event()
    data = IMAGE_SAMPLE.read_bytes()

    def body() -> Iterator[bytes]:
        yield data[: len(data) // 2]
        half.set()
        assert rest.wait(60)
        yield data[len(data) // 2:]

    answer: dict[str, httpx.Response] = {}
    uploader = threading.Thread(target=lambda: answer.update(response=httpx.post(
        f"{url}/api/v1/media", content=body(), timeout=120,
        headers=upload_headers("in-flight.bmp", "image/bmp"))))
    uploader.start()
    assert half.wait(60)
    stop = subprocess.Popen([PODMAN, "stop", "--time", str(GRACEFUL_TIMEOUT + 25), name],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "received SIGTERM" not in containers.logs(name):
            assert time.monotonic() < deadline, containers.logs(name)
            time.sleep(0.2)
    finally:
        rest.set()
        uploader.join(120)
        stop_errors = stop.communicate(timeout=GRACEFUL_TIMEOUT + 60)[1]
    assert answer["response"].status_code == 201, answer["response"].text
    assert stop.returncode == 0, stop_errors
    state = podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
    logs = containers.logs(name)
    assert state == "0", logs
    assert "Traceback" not in logs
    podman("rm", name)

    # a new container on the same volume, with a mounted plugins.toml (no web app, no docs)
    config = tmp_path / "plugins.toml"
    config.write_text('[kernel]\nplugins = ["media", "explain", "iscc", "metadata"]\n')
    config.chmod(0o644)
    _, url = containers.start(volume, "--volume", f"{config}:/etc/iscc-web/plugins.toml:ro")
    stored = httpx.get(f"{url}/api/v1/iscc/{media_id}", timeout=30)
    assert stored.status_code == 200, stored.text
    assert stored.json()["iscc"] == IMAGE_ISCC
    download = httpx.get(f"{url}/api/v1/media/{media_id}", timeout=30)
    assert download.content == IMAGE_SAMPLE.read_bytes()
    assert httpx.get(f"{url}/", timeout=30).status_code == 404  # "ui" is not in the mounted list
    status = httpx.get(f"{url}/api/v1/-/status", timeout=30).json()
    assert [p["name"] for p in status["plugins"]] == ["media", "explain", "iscc", "metadata"]
