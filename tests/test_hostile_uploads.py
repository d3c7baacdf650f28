"""Attacks through ordinary HTTP requests, against a real server, real workers and real tools.

Each test sends what an attacker of a public upload service would send (files crafted in the
test, see :mod:`tests.hostile_files`) and checks the machine afterwards: the result, the
processes in /proc, the work directories, the workers' memory.
"""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import iscc_core as ic
import pytest

from tests import hostile_files
from tests.conftest import upload_headers
from tests.iscc_fixtures import (
    PNG_SAMPLE,
    assert_problem,
    build_app,
    live_client,
    post_file,
)

PLAIN = {"semantic": "false"}
PROCESS_TIMEOUT = 5
MEMORY_LIMIT = 2 << 30
MAX_TEXT = 1_000_000
SVG_HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'width="128" height="128"><rect width="128" height="128" fill="white"/>')


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def work(base: Path) -> Path:
    return base / "work"


@pytest.fixture(scope="module")
def system_tmp(base: Path) -> Path:
    """The temporary directory the workers inherit (their environment's ``TMPDIR``)."""
    path = base / "system-tmp"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def api(base: Path, work: Path, system_tmp: Path):
    kernel = {"process_timeout": PROCESS_TIMEOUT, "work_path": str(work),
              "worker_memory_limit": MEMORY_LIMIT, "private_files": False}
    app = build_app(base / "media", kernel=kernel,
                    plugin={"simprint": {"max_text_chars": MAX_TEXT}})
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(system_tmp)  # spawned workers inherit it
    try:
        with live_client(app) as client:
            yield client
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crafted")


def running(name: str, marker: str) -> list[str]:
    """Command lines of running processes called ``name`` that mention ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        if comm == name and marker in cmdline and stat[stat.rfind(b")") + 2:][:1] != b"Z":
            found.append(cmdline)
    return found


def job_leftovers(work: Path) -> list[Path]:
    """What jobs left under the work root: anything inside a job directory (an emptied one is
    kept for a later job, and must be empty) or beside them (instance dirs hold worker marks)."""
    left = []
    for entry in work.glob("*/*"):
        if entry.name.startswith("j") and entry.is_dir() and not entry.is_symlink():
            left.extend(entry.iterdir())
        elif not entry.name.startswith("w"):
            left.append(entry)
    return left


def worker_peak_rss() -> dict[int, int]:
    """Peak resident memory (VmHWM, bytes) of this process's worker processes."""
    peaks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        ppid, sid = int(fields[1]), int(fields[3])
        if ppid == os.getpid() and sid == int(entry):  # a worker: our child, its own session
            hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
            peaks[int(entry)] = int(hwm.split()[1]) * 1024
    return peaks


def content_unit(result: dict) -> str:
    return next(u for u in result["units"] if ic.iscc_decode(u)[0] == ic.MT.CONTENT)


# --- 1. an upload reads nothing but itself --------------------------------------------------


def svg_iscc(api: httpx.Client, body: str) -> dict:
    r = api.post("/api/v1/iscc", content=(SVG_HEAD + body + "</svg>").encode(), params=PLAIN,
                 headers=upload_headers(f"{uuid.uuid4().hex}.svg", "image/svg+xml"))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def victim(api: httpx.Client, base: Path) -> dict[str, str]:
    """Another client's private picture: its media id, stored file name and stored path."""
    r = post_file(api, PNG_SAMPLE, "victim.png", "image/png", url="/api/v1/media")
    assert r.status_code == 201
    media_id = r.json()["media_id"]
    stored = next((base / "media").rglob(f"{media_id}/victim.png"))
    return {"id": media_id, "name": "victim.png", "path": str(stored)}


def test_svg_references_to_other_files_draw_nothing(api: httpx.Client, victim: dict) -> None:
    blank = svg_iscc(api, "")
    drawn = svg_iscc(api, '<image width="128" height="128" href="data:image/png;base64,'
                     + base64.b64encode(PNG_SAMPLE.read_bytes()).decode() + '"/>')
    # the comparison can see a picture: the same image inlined (allowed) changes the result
    assert drawn["thumbnail"] != blank["thumbnail"]
    assert content_unit(drawn) != content_unit(blank)
    host_image = str(PNG_SAMPLE)  # any image file the server can read
    references = [
        f'<image width="128" height="128" href="../{victim["id"]}/{victim["name"]}"/>',
        f'<image width="128" height="128" href="../../{victim["id"]}/{victim["name"]}"/>',
        f'<image width="128" height="128" xlink:href="{victim["path"]}"/>',
        f'<image width="128" height="128" href="file://{victim["path"]}"/>',
        f'<image width="128" height="128" href="{host_image}"/>',
        f'<filter id="f"><feImage href="{host_image}" width="128" height="128"/></filter>'
        '<rect width="128" height="128" filter="url(#f)"/>',
        '<image width="128" height="128" href="data:image/svg+xml;base64,'
        + base64.b64encode((SVG_HEAD + f'<image width="128" height="128" href="{host_image}"/>'
                            "</svg>").encode()).decode() + '"/>',
        f'<rect width="128" height="128" style="fill:url({victim["path"]}#p)"/>',
    ]
    for body in references:
        result = svg_iscc(api, body)
        assert result["thumbnail"] == blank["thumbnail"], body
        assert content_unit(result) == content_unit(blank), body


# --- 2. nothing outlives its time limit -----------------------------------------------------


def test_a_timed_out_video_leaves_no_ffmpeg_running(api: httpx.Client, crafted: Path,
                                                    work: Path) -> None:
    video = hostile_files.long_gap_mp4(crafted / "gap.mp4")
    r = post_file(api, video, "gap.mp4", "video/mp4", params=PLAIN)
    assert_problem(r, 422, "ISCC processing timed out.")
    time.sleep(1)
    assert running("ffmpeg", str(work)) == []
    assert running("ffprobe", str(work)) == []
    assert job_leftovers(work) == []


def test_a_timed_out_audio_leaves_no_fpcalc_running(api: httpx.Client, crafted: Path,
                                                    work: Path) -> None:
    audio = hostile_files.long_silent_flac(crafted / "silence.flac")
    r = post_file(api, audio, "silence.flac", "audio/flac", params=PLAIN)
    assert_problem(r, 422, "ISCC processing timed out.")
    time.sleep(1)
    assert running("fpcalc", str(work)) == []
    assert running("ffmpeg", str(work)) == []
    assert job_leftovers(work) == []
    assert post_file(api, PNG_SAMPLE, "after.png", params=PLAIN).status_code == 201


# --- 3. decompression bombs stop at the limits ----------------------------------------------


def test_a_huge_image_is_refused_before_it_is_decoded(api: httpx.Client, crafted: Path) -> None:
    image = hostile_files.huge_png(crafted / "huge.png")
    assert image.stat().st_size < 1_000_000
    r = post_file(api, image, "huge.png", "image/png", params=PLAIN)
    assert_problem(r, 422, "File too complex to process.")
    peaks = worker_peak_rss()
    assert peaks
    assert max(peaks.values()) < MEMORY_LIMIT // 4


def test_an_epub_with_a_2_gib_cover_is_refused(api: httpx.Client, crafted: Path) -> None:
    book = hostile_files.epub_with_big_cover(crafted / "bomb.epub")
    assert book.stat().st_size < 5_000_000
    r = post_file(api, book, "bomb.epub", "application/epub+zip", params=PLAIN)
    assert_problem(r, 422, "File too complex to process.")
    peaks = worker_peak_rss()
    assert peaks
    assert max(peaks.values()) < MEMORY_LIMIT // 4


# --- 4. JSON bodies -------------------------------------------------------------------------


def test_deeply_nested_json_is_400(api: httpx.Client) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    for body in (deep, b'{"text": "a", "x": ' + deep + b"}"):
        r = api.post("/api/v1/simprint", content=body,
                     headers={"Content-Type": "application/json"})
        assert_problem(r, 400)
    media_id = post_file(api, PNG_SAMPLE, "n.png", url="/api/v1/media").json()["media_id"]
    r = api.post(f"/api/v1/metadata/{media_id}", content=b'{"name": ' + deep + b"}",
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    ok = json.dumps({"text": "a", "x": [[[[1]]]]}).encode()
    assert api.post("/api/v1/simprint", content=ok,
                    headers={"Content-Type": "application/json"}).status_code == 200


def test_a_200_mb_simprint_body_is_refused_long_before_its_end(api: httpx.Client) -> None:
    """Streamed without a length: the server answers 413 while the client is still sending."""
    address = urlsplit(str(api.base_url))
    total = 200 * 1024 * 1024
    chunk = b"a" * 65536
    sent = 0
    with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
        sock.sendall(b"POST /api/v1/simprint HTTP/1.1\r\nHost: test\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b'9\r\n{"text":"\r\n')
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        sock.settimeout(5)  # a server that stopped reading: the send stalls
        while sent < total and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(frame)
            except OSError:  # stalled, or the server closed the connection
                break
            sent += len(chunk)
        sock.settimeout(60)
        answer = b""
        while b"\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.split(b" ", 2)[1] == b"413", answer
    assert sent < total // 10  # refused at ~6 MB (6 bytes per character of max_text_chars)


# --- 5. no temporary files ------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["image/demo.png", "audio/demo.mp3"])
def test_processing_leaves_no_temporary_files(api: httpx.Client, work: Path, system_tmp: Path,
                                              sample: str) -> None:
    """iscc-sdk makes temporary directories while embedding; they die with the job."""
    path = hostile_files.SAMPLES / sample
    media_id = post_file(api, path, path.name, url="/api/v1/media").json()["media_id"]
    r = api.post(f"/api/v1/metadata/{media_id}", json={"name": "Embedded"})
    assert r.status_code == 201, r.text
    assert api.get(f"/api/v1/metadata/{media_id}").status_code == 200
    assert job_leftovers(work) == []
    assert sorted(system_tmp.iterdir()) == []
