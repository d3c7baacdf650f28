"""POST/GET /api/v1/iscc against a real server: contract vectors, every mode, options, errors."""

from __future__ import annotations

import io
import random
import subprocess
import sys
from pathlib import Path

import httpx
import iscc_core
import iscc_lib
import pytest

from kernel import ConfigError, create_app
from tests.conftest import b64name, upload_headers
from tests.iscc_fixtures import (
    IMAGE_SAMPLE,
    assert_problem,
    build_app,
    live_client,
    make_package,
    packages,
    post_file,
    raw_status,
    sample,
)

MAX_UPLOAD = 3_000_000

#: CONTRACT §7.3, test-image.jpg.
IMAGE_ISCC = "ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY"
IMAGE_METAHASH = "1e20304ab0c98a760be580dfa20716f2912d7ae30ec82b5f48b01dcf8f008d42568d"
IMAGE_DATAHASH = "1e209db4c0d9e68c5203dc8c2fefe52fa5d54671be3a3253e06888cace7c60e5a743"
IMAGE_UNITS = [
    "ISCC:AADXNDSZVTTX2LDQWWLJUWUK3DGIQV27EFWEUI2AEXNONCRDWUSE2OY",
    # The 256-bit Content unit depends on the iscc-lib version (ISCC-STACK.md); both share
    # the 64 bits that enter the composite.
    ("ISCC:EED4GQZQTY6J5DTHQ2DWCPDZHQOM6QZQTY6J5DTFZ2DWCPDZHQOMXDI",
     "ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJNRTEGLGHFWXFGNDZHSMO4HEZGZI"),
    "ISCC:GADWAIBQLNWP7X32J3INMAMDUJ4QMN67BBQKVTVZIWHXQ7QJIKHYTBY",
    "ISCC:IADZ3NGA3HTIYUQD3SGC737FF6S5KRTRXY5DEU7ANCEMVTT4MDS2OQY",
]
SEMANTIC_UNAVAILABLE = "Semantic codes are not available on this server."


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("iscc-api") / "media"


@pytest.fixture(scope="module")
def api(media: Path):
    app = build_app(media, kernel={"private_files": True, "max_upload_size": MAX_UPLOAD})
    with live_client(app) as client:
        yield client


def without_ids(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("media_id", "content")}


def test_image_vector(api: httpx.Client) -> None:
    r = post_file(api, IMAGE_SAMPLE, "test-image.jpg", "image/jpeg")
    assert r.status_code == 201, r.text
    body = r.json()
    media_id = body["media_id"]
    assert r.headers["location"] == f"/api/v1/media/{media_id}"
    assert body["content"] == f"http://localhost:8000/api/v1/media/{media_id}"  # site_address
    assert body["iscc"] == IMAGE_ISCC
    assert body["@type"] == "ImageObject"
    assert body["@context"] == "http://purl.org/iscc/context/0.8.0.jsonld"
    assert body["$schema"] == "http://purl.org/iscc/schema/0.8.0.json"
    assert (body["name"], body["mode"], body["filename"]) == ("test image", "image",
                                                             "test-image.jpg")
    assert (body["filesize"], body["mediatype"]) == (53256, "image/jpeg")
    assert (body["width"], body["height"]) == (200, 133)
    assert body["metahash"] == IMAGE_METAHASH
    assert body["datahash"] == IMAGE_DATAHASH
    assert body["generator"].startswith("iscc-sdk - v0.9.")
    assert body["thumbnail"].startswith("data:image/webp;base64,")
    units = body["units"]
    assert [units[0], units[2], units[3]] == [IMAGE_UNITS[0], IMAGE_UNITS[2], IMAGE_UNITS[3]]
    assert units[1] in IMAGE_UNITS[1]
    assert "features" not in body

    stored = api.get(f"/api/v1/iscc/{media_id}")
    assert stored.status_code == 200
    assert stored.headers["content-type"] == "application/json"
    assert stored.headers["content-disposition"] == "inline"
    assert stored.json() == without_ids(body)
    # stored compact (issue 18: no pretty-printed sidecars), keys in the result's order
    assert stored.text.startswith('{"@context":"http')
    assert "\n" not in stored.text
    assert api.get(f"/api/v1/media/{media_id}").content == IMAGE_SAMPLE.read_bytes()


def test_explicit_false_params(api: httpx.Client) -> None:
    r = post_file(api, IMAGE_SAMPLE, "test-image.jpg", "image/jpeg",
                  params={"semantic": "false", "granular": "false"})
    assert r.status_code == 201
    assert r.json()["iscc"] == IMAGE_ISCC
    assert len(r.json()["units"]) == 4
    assert "features" not in r.json()


def test_image_granular_has_no_features(api: httpx.Client) -> None:
    r = post_file(api, IMAGE_SAMPLE, "test-image.jpg", params={"granular": "true"})
    assert r.status_code == 201
    assert "features" not in r.json()


@pytest.mark.parametrize(("relative", "mode"), [
    ("image/demo.jpg", "image"), ("image/demo.png", "image"), ("text/demo.txt", "text"),
    ("text/demo.pdf", "text"), ("text/demo.docx", "text"), ("text/demo.epub", "text"),
    ("audio/demo.mp3", "audio"), ("video/demo.mp4", "video"),
])
def test_every_mode(api: httpx.Client, relative: str, mode: str) -> None:
    r = post_file(api, sample(relative))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["mode"] == mode
    assert iscc_core.iscc_validate(body["iscc"])
    assert len(body["units"]) == 4
    assert body["datahash"].startswith("1e20")
    # Data- and Instance-Code were hashed while the upload streamed in: they are the codes of
    # reading the stored file (the service's options: 256 bits, wide, units)
    read = iscc_lib.gen_sum_code_v0(str(sample(relative)), bits=256, wide=True, add_units=True)
    assert (body["datahash"], body["filesize"]) == (read["datahash"], read["filesize"])
    assert body["units"][2:] == read["units"]
    assert body["iscc"] == iscc_lib.gen_iscc_code_v0(body["units"])["iscc"]
    explained = api.get(f"/api/v1/explain/{body['iscc']}")
    assert explained.status_code == 200
    assert len(explained.json()["units"]) == 4


def test_text_granular_on_off(api: httpx.Client) -> None:
    text = sample("text/demo.txt")
    default = post_file(api, text).json()
    explicit = post_file(api, text, params={"semantic": "false", "granular": "true"}).json()
    assert without_ids(default) == without_ids(explicit)
    [features] = default["features"]
    assert (features["maintype"], features["subtype"], features["version"]) == (
        "content", "text", 0)
    assert features["byte_offsets"] is True
    assert len(features["simprints"]) == len(features["offsets"]) == len(features["sizes"]) > 1
    off = post_file(api, text, params={"granular": "false"}).json()
    assert "features" not in off
    assert off["iscc"] == default["iscc"]


def test_semantic_without_models_is_a_clear_422(api: httpx.Client, media: Path) -> None:
    before = packages(media)
    for relative in ("image/demo.jpg", "text/demo.txt", "audio/demo.mp3"):
        r = post_file(api, sample(relative), params={"semantic": "true"})
        assert_problem(r, 422, SEMANTIC_UNAVAILABLE)
    assert packages(media) == before


@pytest.mark.parametrize("query", ["semantic=banana", "granular=maybe", "semantic="])
def test_invalid_boolean_is_400(api: httpx.Client, media: Path, query: str) -> None:
    before = packages(media)
    r = api.post(f"/api/v1/iscc?{query}", content=b"x", headers=upload_headers())
    assert_problem(r, 400)
    assert packages(media) == before


def test_unsupported_type_falls_back_to_wide_iscc_sum(api: httpx.Client) -> None:
    data = random.Random(7).randbytes(5000)
    r = api.post("/api/v1/iscc", content=data, headers=upload_headers("blob.bin", None))
    assert r.status_code == 201, r.text
    body = r.json()
    data_unit = iscc_core.gen_data_code_v0(io.BytesIO(data), bits=256)["iscc"]
    instance_unit = iscc_core.gen_instance_code_v0(io.BytesIO(data), bits=256)["iscc"]
    assert body["units"] == [data_unit, instance_unit]
    assert body["iscc"] == iscc_core.gen_iscc_code_v0([data_unit, instance_unit], wide=True)[
        "iscc"]
    assert body["iscc"] == "ISCC:K4AMT5LPNJAUNQC2RQDXXTSZ6W32FQUQ332DIKXPZ5ZLG23AJBH2P5Y"
    assert body["@type"] == "CreativeWork"
    assert "mode" not in body
    assert "metahash" not in body
    assert body["filesize"] == 5000


def test_get_iscc_not_found(api: httpx.Client) -> None:
    assert_problem(api.get("/api/v1/iscc/061ko3i97hshu"), 404, "No ISCC-CODE found.")
    uploaded = api.post("/api/v1/media", content=b"plain", headers=upload_headers())
    media_id = uploaded.json()["media_id"]
    assert_problem(api.get(f"/api/v1/iscc/{media_id}"), 404, "No ISCC-CODE found.")
    assert_problem(api.get("/api/v1/iscc/NOT-A-MEDIA-ID"), 404)


def test_upload_errors(api: httpx.Client, media: Path) -> None:
    before = packages(media)
    url = "/api/v1/iscc"
    assert_problem(api.post(url, content=b"x"), 400, "Missing header X-Upload-Filename.")
    assert_problem(api.post(url, content=b"x", headers={"X-Upload-Filename": "***"}), 400,
                   "X-Upload-Filename is not base64.")
    latin1 = {"X-Upload-Filename": "/w=="}
    assert_problem(api.post(url, content=b"x", headers=latin1), 400,
                   "X-Uploaded-Filename is not UTF-8 encoded")
    assert_problem(api.post(url, content=b"", headers=upload_headers()), 400)
    assert packages(media) == before


def test_upload_over_the_limit_is_413(api: httpx.Client, media: Path) -> None:
    """Declared too large: answered from the head; chunked: stopped at the limit (D1)."""
    before = packages(media)
    name = b64name("big.bin").encode()
    head = (b"POST /api/v1/iscc HTTP/1.1\r\nHost: test\r\nX-Upload-Filename: " + name
            + b"\r\nContent-Length: " + str(MAX_UPLOAD + 1).encode() + b"\r\n\r\n")
    assert raw_status(str(api.base_url), head) == 413
    chunk = b"y" * 65536
    count = MAX_UPLOAD // len(chunk) + 1
    chunked = (b"POST /api/v1/iscc HTTP/1.1\r\nHost: test\r\nX-Upload-Filename: " + name
               + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    parts = [b"%x\r\n" % len(chunk) + chunk + b"\r\n"] * count + [b"0\r\n\r\n"]
    assert raw_status(str(api.base_url), chunked, parts) == 413
    assert packages(media) == before


def test_unicode_file_name(api: httpx.Client) -> None:
    r = api.post("/api/v1/iscc", content=sample("text/demo.txt").read_bytes(),
                 headers={"X-Upload-Filename": b64name("Grüße aus Köln.txt")})
    assert r.status_code == 201
    assert r.json()["filename"] == "Grüße aus Köln.txt"
    assert r.json()["name"] == "Grüße aus Köln"


def test_status_reports_processing_capabilities(api: httpx.Client) -> None:
    body = api.get("/api/v1/-/status").json()
    assert body["iscc"]["modes"] == {"image": True, "text": True, "audio": True, "video": True}
    assert body["iscc"]["semantic"] == {"text": False, "image": False}
    assert body["iscc"]["tools"] == {"ffmpeg": True, "ffprobe": True, "fpcalc": True}
    assert body["simprint"]["types"] == ["CONTENT_TEXT_V0"]
    assert {"iscc", "metadata", "simprint"} <= {p["name"] for p in body["plugins"]}


def test_foreign_package_iscc_is_readable(api: httpx.Client, media: Path) -> None:
    """GET /iscc has no privacy check (CONTRACT §2.4)."""
    make_package(media, "061knt35ejv6o", "x.txt", b"x")
    (media / "061knt35ejv6o" / "061knt35ejv6o.iscc.json").write_text('{"iscc": "ISCC:X"}')
    assert api.get("/api/v1/iscc/061knt35ejv6o").json() == {"iscc": "ISCC:X"}


def test_settings_from_env_and_toml(tmp_path: Path) -> None:
    config = {"kernel": {"media_path": str(tmp_path), "plugins": ["iscc", "simprint"]}}
    app = create_app(config, env={"ISCC_WEB_SEMANTIC_DEFAULT": "true",
                                  "ISCC_WEB_FPCALC_PATH": "/opt/fpcalc"})
    own = app.extensions["iscc_web"].settings.of("iscc")
    assert own.semantic_default is True
    assert own.fpcalc_path == "/opt/fpcalc"
    assert own.ffmpeg_path == "ffmpeg"
    with pytest.raises(ConfigError, match="ISCC_WEB_SEMANTIC_DEFAULT"):
        create_app(config, env={"ISCC_WEB_SEMANTIC_DEFAULT": "banana"})
    with pytest.raises(ConfigError, match="semantic_defualt"):
        create_app({**config, "plugin": {"iscc": {"semantic_defualt": True}}}, env={})


def test_work_modules_import_without_quart_or_sdk() -> None:
    """Shared worker code loads no web stack (only the kernel's light half, which worker
    processes load anyway); iscc-sdk is only imported inside worker jobs."""
    code = (
        "import sys\n"
        "import plugins._processing.work\n"
        "heavy = {'quart', 'quart_trio', 'hypercorn', 'trio', 'iscc_sdk', 'kernel.api_web'}\n"
        "assert not heavy & set(sys.modules), heavy & set(sys.modules)\n"
        "import plugins.simprint.work\n"
        "assert 'iscc_sdk' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


async def test_processing_settings_have_one_value_across_groups(tmp_path: Path) -> None:
    """One worker pool serves every processing group: a tool path or model directory set in
    any table reaches them all, and two tables that disagree stop start-up."""
    from kernel.context import runtime_of

    kernel = {"media_path": str(tmp_path), "plugins": ["iscc", "metadata", "simprint"],
              "max_workers": 1, "cleanup_interval": 0}
    with pytest.raises(ConfigError, match=r"\[plugin.(iscc|metadata)\] and \[plugin.(iscc|"
                                          r"metadata)\] set ffmpeg_path to different values"):
        create_app({"kernel": kernel, "plugin": {"iscc": {"ffmpeg_path": "/opt/a/ffmpeg"},
                                                 "metadata": {"ffmpeg_path": "/opt/b/ffmpeg"}}},
                   env={})
    with pytest.raises(ConfigError, match="semantic_model_dir"):
        create_app({"kernel": kernel, "plugin": {"simprint": {"semantic_model_dir": "/m1"},
                                                 "iscc": {"semantic_model_dir": "/m2"}}},
                   env={})
    # set once (in the metadata table, listed last): every group and the workers use it
    missing = str(tmp_path / "no-such-ffmpeg")
    for order in (["iscc", "metadata", "simprint"], ["metadata", "simprint", "iscc"]):
        app = create_app({"kernel": {**kernel, "plugins": order},
                          "plugin": {"metadata": {"ffmpeg_path": missing}}}, env={})
        async with app.test_app() as test_app:
            status = await (await test_app.test_client().get("/api/v1/-/status")).get_json()
            assert status["iscc"]["tools"]["ffmpeg"] is False
            tools = await runtime_of(app).workers.run_sync(_worker_tools)
            assert tools["ffmpeg"] is None  # the worker resolved the one configured path


def _worker_tools() -> dict:
    from plugins._processing import work

    work._sdk()
    from plugins._processing.sdk import TOOLS

    return dict(TOOLS)
