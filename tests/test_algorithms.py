"""The algorithm baseline: which versions made a code, and our vectors pinned exactly.

We run the newest reference algorithms (iscc-core 1.5, iscc-lib 0.7, iscc-sdk 0.9.7); iscc-web
0.3.2 pins iscc-sdk 0.9.3 (iscc-lib 0.6). The 64-bit units and every ISCC-CODE are identical;
the 256-bit Image Content unit body and the last short text simprint differ (README,
"Algorithm baseline"). A library upgrade that moves a code fails here first.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.iscc_fixtures import IMAGE_SAMPLE, build_app, live_client, post_file, sample

BASELINE = {"iscc-sdk": "0.9.7", "iscc-lib": "0.7.0", "iscc-core": "1.5.0"}
IMAGE = {  # test-image.jpg (iscc_samples.images()[0] uploaded under that name)
    "iscc": "ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY",
    "units": [
        "ISCC:AADXNDSZVTTX2LDQWWLJUWUK3DGIQV27EFWEUI2AEXNONCRDWUSE2OY",
        "ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJNRTEGLGHFWXFGNDZHSMO4HEZGZI",  # iscc-lib 0.7
        "ISCC:GADWAIBQLNWP7X32J3INMAMDUJ4QMN67BBQKVTVZIWHXQ7QJIKHYTBY",
        "ISCC:IADZ3NGA3HTIYUQD3SGC737FF6S5KRTRXY5DEU7ANCEMVTT4MDS2OQY",
    ],
}
#: iscc-web 0.3.2's Content unit of the same file (iscc-lib 0.4-0.6): same first 64 bits.
INCUMBENT_IMAGE_CONTENT = "ISCC:EED4GQZQTY6J5DTHQ2DWCPDZHQOM6QZQTY6J5DTFZ2DWCPDZHQOMXDI"
DOC = {  # demo.doc, granular content/text features
    "iscc": "ISCC:KACV5NAQXBCHCWFWAYCJRAL5Z36G7AZALCN3HBKABNDND26WJ5IVG4I",
    "offsets": [0, 996, 1453, 2122, 4941, 5398],
    "sizes": [996, 457, 669, 2819, 457, 669],
    "last": "AARYEMzu5WEOfTZq5ixNLcoThJ5AgJYNRICysqEs3v0",
}
#: iscc-web 0.3.2 (iscc-sdk 0.9.3) keeps a seventh, 1-byte chunk at the end (CONTRACT §7.3).
INCUMBENT_DOC_OFFSETS = [0, 996, 1453, 2122, 4941, 5398, 6067]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    app = build_app(tmp_path_factory.mktemp("algorithms") / "media", kernel={"max_workers": 1})
    with live_client(app) as client:
        yield client


def test_status_names_the_algorithm_versions(api: httpx.Client) -> None:
    versions = api.get("/api/v1/-/status").json()["iscc"]["versions"]
    assert {k: versions[k] for k in BASELINE} == BASELINE
    assert versions["ffmpeg"]
    assert versions["ffmpeg"][0].isdigit()
    assert versions["fpcalc"]
    assert versions["fpcalc"][0].isdigit()


def test_image_vector_is_ours_exactly(api: httpx.Client) -> None:
    r = post_file(api, IMAGE_SAMPLE, "test-image.jpg", "image/jpeg")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["iscc"] == IMAGE["iscc"]
    assert body["units"] == IMAGE["units"]
    assert body["generator"] == f"iscc-sdk - v{BASELINE['iscc-sdk']}"
    # where we differ from iscc-web 0.3.2: only beyond the 64 bits that enter the composite
    ours, theirs = IMAGE["units"][1], INCUMBENT_IMAGE_CONTENT
    assert ours != theirs
    assert ours[:20] == theirs[:20]


def test_text_vector_is_ours_exactly(api: httpx.Client) -> None:
    path: Path = sample("text/demo.doc")
    r = post_file(api, path, "demo.doc", params={"semantic": "false", "granular": "true"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["iscc"] == DOC["iscc"]  # the ISCC-CODE is the incumbent's
    (content,) = body["features"]
    assert (content["maintype"], content["subtype"]) == ("content", "text")
    assert content["offsets"] == DOC["offsets"] == INCUMBENT_DOC_OFFSETS[:-1]
    assert content["sizes"] == DOC["sizes"]
    assert content["simprints"][-1] == DOC["last"]
