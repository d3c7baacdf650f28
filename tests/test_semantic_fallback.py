"""``semantic_fallback``: ``semantic=true`` without models answers the standard code, flagged."""

from __future__ import annotations

import httpx
import pytest

from tests.iscc_fixtures import IMAGE_SAMPLE, build_app, live_client, post_file

STANDARD_IMAGE_ISCC = "ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    app = build_app(tmp_path_factory.mktemp("fallback") / "media",
                    kernel={"max_workers": 1}, env={"ISCC_WEB_SEMANTIC_FALLBACK": "true"})
    with live_client(app) as client:
        yield client


def test_semantic_request_without_models_gets_the_standard_code(api: httpx.Client) -> None:
    r = post_file(api, IMAGE_SAMPLE, "test-image.jpg", "image/jpeg",
                  params={"semantic": "true"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["iscc"] == STANDARD_IMAGE_ISCC
    assert len(body["units"]) == 4
    assert body["semantic"] is False
    assert r.headers["warning"].startswith('299 - "Semantic code not available')
    stored = api.get(f"/api/v1/iscc/{body['media_id']}").json()
    assert "semantic" not in stored
    assert stored["iscc"] == STANDARD_IMAGE_ISCC


def test_text_falls_back_too_and_plain_requests_are_unchanged(api: httpx.Client) -> None:
    r = api.post("/api/v1/iscc", params={"semantic": "true", "granular": "false"},
                 content=b"A short text that would get a semantic code with a model.",
                 headers={"X-Upload-Filename": "bm90ZS50eHQ="})
    assert r.status_code == 201, r.text
    assert r.json()["semantic"] is False
    assert "warning" in r.headers
    plain = post_file(api, IMAGE_SAMPLE, "test-image.jpg", "image/jpeg",
                      params={"semantic": "false"})
    assert plain.status_code == 201
    assert "semantic" not in plain.json()
    assert "warning" not in plain.headers
