"""Processing under adverse conditions: missing tools, no models, timeouts, crashed workers."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests import iscc_faults_plugin
from tests.iscc_fixtures import (
    IMAGE_SAMPLE,
    PROCESSING,
    assert_problem,
    build_app,
    live_client,
    packages,
    post_file,
    sample,
)

#: Seconds one job may run on this server; the ``sleep*`` fault blocks far longer.
PROCESS_TIMEOUT = 4


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("iscc-faults") / "media"


@pytest.fixture(scope="module")
def api(media: Path, tmp_path_factory: pytest.TempPathFactory):
    models = tmp_path_factory.mktemp("models")  # configured, but holds no model
    env = {
        "ISCC_WEB_FPCALC_PATH": "/nonexistent/fpcalc",
        "ISCC_WEB_FFMPEG_PATH": "fpcalc-ffmpeg-not-on-path",
        "ISCC_WEB_SEMANTIC_DEFAULT": "true",
        "ISCC_WEB_SEMANTIC_MODEL_DIR": str(models),
    }
    app = build_app(media, kernel={"process_timeout": PROCESS_TIMEOUT, "max_workers": 1,
                                   "plugins": [*PROCESSING, "faults"]},
                    plugins={"faults": iscc_faults_plugin}, env=env)
    saved = os.environ.get("ISCC_SCI_BITS")
    os.environ["ISCC_SCI_BITS"] = "64"  # an explicit value the workers must keep
    try:
        with live_client(app) as client:
            yield client
    finally:
        if saved is None:
            os.environ.pop("ISCC_SCI_BITS", None)
        else:
            os.environ["ISCC_SCI_BITS"] = saved


PLAIN = {"semantic": "false"}


def test_missing_tool_fails_only_its_mode(api: httpx.Client, media: Path) -> None:
    before = packages(media)
    audio = assert_problem(post_file(api, sample("audio/demo.mp3"), params=PLAIN), 422)
    assert "fpcalc is not installed on this server" in audio["detail"]
    video = assert_problem(post_file(api, sample("video/demo.mp4"), params=PLAIN), 422)
    assert "ffmpeg is not installed on this server" in video["detail"]
    assert packages(media) == before
    for relative in ("image/demo.jpg", "text/demo.txt"):
        assert post_file(api, sample(relative), params=PLAIN).status_code == 201


def test_status_reports_missing_tools_and_models(api: httpx.Client) -> None:
    report = api.get("/api/v1/-/status").json()["iscc"]
    assert report["modes"] == {"image": True, "text": True, "audio": False, "video": False}
    assert report["tools"] == {"ffmpeg": False, "ffprobe": True, "fpcalc": False}
    assert report["semantic"] == {"text": False, "image": False}
    assert report["semantic_default"] is True


def test_semantic_default_from_env_without_models(api: httpx.Client, media: Path) -> None:
    before = packages(media)
    r = post_file(api, IMAGE_SAMPLE, "test-image.jpg")
    assert_problem(r, 422, "Semantic codes are not available on this server.")
    assert packages(media) == before


def test_library_defaults_in_workers_explicit_env_wins(api: httpx.Client) -> None:
    view = api.get("/api/v1/-/faults/env").json()
    assert view["env"]["ISCC_SDK_BITS"] == "256"
    assert view["env"]["ISCC_SDK_FALLBACK"] == "true"
    assert view["env"]["ISCC_SDK_EXPERIMENTAL"] == "false"
    assert view["env"]["ISCC_SCT_BITS"] == "256"
    assert view["env"]["ISCC_SCI_BITS"] == "64"
    assert view["sdk_opts"] == {"bits": 256, "granular": True, "fallback": True, "wide": True}


def test_processing_timeout(api: httpx.Client, media: Path) -> None:
    before = packages(media)
    r = post_file(api, IMAGE_SAMPLE, "sleep.jpg", params=PLAIN)
    assert_problem(r, 422, "ISCC processing timed out.")
    assert packages(media) == before
    assert post_file(api, IMAGE_SAMPLE, "after-timeout.jpg", params=PLAIN).status_code == 201


def test_worker_crash(api: httpx.Client, media: Path) -> None:
    before = packages(media)
    r = post_file(api, IMAGE_SAMPLE, "crash.jpg", params=PLAIN)
    assert_problem(r, 503)
    assert r.headers["retry-after"]
    assert packages(media) == before
    assert post_file(api, IMAGE_SAMPLE, "after-crash.jpg", params=PLAIN).status_code == 201
    workers = api.get("/api/v1/-/status").json()["workers"]
    assert workers["crashed"] >= 2
