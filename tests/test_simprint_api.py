"""POST /api/v1/simprint: CONTENT_TEXT_V0 exactly per CONTRACT §6.12, and every error of §2.11."""

from __future__ import annotations

import httpx
import pytest

from plugins.simprint.work import content_simprints, text_simprints
from tests.iscc_fixtures import (
    assert_problem,
    build_app,
    live_client,
    post_file,
    raw_status,
    sample,
)

MAX_UPLOAD = 1_000_000
MAX_TEXT = 1_000_000
HELLO = {"CONTENT_TEXT_V0": ["JQ25bg1KF6BhSJXnr_eE_uFCcDd_l36NicEiIgzpa-M"]}
SHORT = "Hello World! This is a short text for simprint generation."
SHORT_SIMPRINTS = ["SCXX_obwF2sK-xsnk9p1hhsH1fvrzwyZZBhhsVxMLTM"]
MULTILINGUAL = (
    "Die Würde des Menschen ist unantastbar. La dignité humaine est inviolable. "
    "人的尊严不可侵犯。 Достоинство человека неприкосновенно. "
    "كرامة الإنسان لا تمس. 人間の尊厳は不可侵である。"
)
MULTILINGUAL_SIMPRINTS = ["hODugVgAd82y78ltOw-1FOX7rdQe2i9Pf39CEcr9YZY"]
#: demo.txt of iscc-samples (6062 bytes): derived with iscc-core's text_clean, alg_cdc_chunks,
#: text_collapse, sliding_window, alg_minhash_256 and xxhash (§6.12). The final chunk holds no
#: n-gram material (it is the empty-input simprint).
DEMO_TXT_SIMPRINTS = [
    "s4bJ4XUQ3j9PduFxmz6-4jPVv6fHet2buw0-68-oXSg", "k5XpwXVE3j9d5IBxm36c4BkXP6fHOv8bgYyf68v8XSo",
    "OERRAF2u5WWuLHZLZzgcCSoCoL9R0NYrBJD7s7A43t0", "AARYEMzu5WEOfTZq5ixNLcoThJ5AgJYNRICysqEs3v0",
    "kZVpgXVE3j9d5ARx23wc4hsXu4XBOP8ZgYybqYn83Sg", "pI6P4XvA_C1OOiv1me604SaZNafLyv2KuMrYa8X4Vyo",
    "k5XpwXVE3j9d5IBxm36c4BkXP6fHOv8bgYyf68v8XSo", "OERRAF2u5WWuLHZLZzgcCSoCoL9R0NYrBJD7s7A43t0",
    "AARYEMzu5WEOfTZq5ixNLcoThJ5AgJYNRICysqEs3v0", "JfC6tnH1BuHFMviS2deReiUuelIIMvWWOozU6afjErU",
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    media = tmp_path_factory.mktemp("simprint") / "media"
    app = build_app(media, kernel={"max_upload_size": MAX_UPLOAD},
                    plugin={"simprint": {"max_text_chars": MAX_TEXT}})
    with live_client(app) as client:
        yield client


def simprint(api: httpx.Client, body: object) -> httpx.Response:
    return api.post("/api/v1/simprint", json=body)


def test_hello_world(api: httpx.Client) -> None:
    r = simprint(api, {"text": "hello world"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == HELLO


@pytest.mark.parametrize(("text", "expected"), [
    (SHORT, SHORT_SIMPRINTS), (MULTILINGUAL, MULTILINGUAL_SIMPRINTS),
])
def test_reference_fixtures(api: httpx.Client, text: str, expected: list[str]) -> None:
    assert simprint(api, {"text": text}).json() == {"CONTENT_TEXT_V0": expected}


def test_multi_chunk_matches_reference_and_sdk(api: httpx.Client) -> None:
    """Ten chunks; the first nine equal iscc-sdk's own (iscc-lib) content/text simprints."""
    path = sample("text/demo.txt")
    r = simprint(api, {"text": path.read_text(encoding="utf-8")})
    assert r.json() == {"CONTENT_TEXT_V0": DEMO_TXT_SIMPRINTS}
    sdk = post_file(api, path).json()["features"][0]["simprints"]
    assert sdk == DEMO_TXT_SIMPRINTS[: len(sdk)]
    assert len(sdk) == 9


def test_many_chunks_in_order() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + " ".join(f"word{(i * 7 + j) % 97}"
                                                     for j in range(60)) for i in range(30))
    simprints = content_simprints(text)
    assert len(simprints) == 35
    assert simprints[0] == "ebYNYVJeGUs_KD3tY5dK9emTMM2qc8prewM8KyezdTo"
    assert simprints[-1] == "HyIA2NgEeAKq3e7uRdcN-P2FBOG7o12UCMumdYC9rDg"
    assert all(len(s) == 43 for s in simprints)
    assert text_simprints(text) == {"CONTENT_TEXT_V0": simprints}


def test_whitespace_only_text_yields_one_simprint(api: httpx.Client) -> None:
    r = simprint(api, {"text": " \n\t "})
    assert r.status_code == 200
    assert r.json() == {"CONTENT_TEXT_V0": ["JfC6tnH1BuHFMviS2deReiUuelIIMvWWOozU6afjErU"]}


@pytest.mark.parametrize("body", [
    {"text": ""}, {}, {"txt": "hello"}, {"text": 1}, {"text": None}, {"text": ["a"]},
    ["hello"], "hello",
])
def test_invalid_request_is_400(api: httpx.Client, body: object) -> None:
    assert_problem(simprint(api, body), 400)


@pytest.mark.parametrize("raw", [b"", b"{not json", b"\xff\xfe\xfd", b'{"text": "a"'])
def test_invalid_json_is_400(api: httpx.Client, raw: bytes) -> None:
    r = api.post("/api/v1/simprint", content=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, 400)


def test_oversize_text_is_400(api: httpx.Client) -> None:
    """The text limit counts characters (``max_text_chars``), not bytes."""
    r = simprint(api, {"text": "a" * (MAX_TEXT + 1)})
    assert_problem(r, 400, f"text size must be <= {MAX_TEXT} characters")
    assert_problem(simprint(api, {"text": "ä" * (MAX_TEXT + 1)}), 400)
    assert simprint(api, {"text": "a" * MAX_TEXT}).status_code == 200


def test_body_far_over_the_limit_is_413(api: httpx.Client) -> None:
    """A declared body larger than any valid request is refused before it is read."""
    length = str(MAX_TEXT * 7).encode()
    head = (b"POST /api/v1/simprint HTTP/1.1\r\nHost: test\r\nContent-Type: application/json"
            b"\r\nContent-Length: " + length + b"\r\n\r\n")
    assert raw_status(str(api.base_url), head) == 413


def test_wrong_method_and_status(api: httpx.Client) -> None:
    assert_problem(api.get("/api/v1/simprint"), 405)
    assert api.get("/api/v1/-/status").json()["simprint"] == {"types": ["CONTENT_TEXT_V0"]}


def test_work_function_in_process() -> None:
    assert content_simprints("hello world") == HELLO["CONTENT_TEXT_V0"]
