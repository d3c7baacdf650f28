"""``GET /api/v1/explain/{iscc}`` (CONTRACT §2.10, vector of §7.3)."""

from __future__ import annotations

import pytest

VIDEO = "KMDMRJYGHHVRCZ5TM6U4G6D4MXA6LAXC4ZRPOKFU7JBEQXR2BJOS6NA"


async def test_explain_vector(client):
    r = await client.get(f"/api/v1/explain/{VIDEO}")
    assert r.status_code == 200
    body = await r.get_json()
    assert body["iscc"] == f"ISCC:{VIDEO}"
    assert body["readable"] == (
        "ISCC-VIDEO-V0-MSDI-c8a70639eb1167b367a9c3787c65c1e582e2e662f728b4fa42485e3a0a5d2f34"
    )
    assert body["multiformat"] == "uzAFTBsinBjnrEWezZ6nDeHxlweWC4uZi9yi0-kJIXjoKXS80"
    assert body["decomposed"] == (
        "AAA4RJYGHHVRCZ5T-CMAWPKODPB6GLQPF-GAAYFYXGML3SRNH2-IAAUESC6HIFF2LZU"
    )
    assert len(body["units"]) == 4
    assert body["units"][0] == {
        "iscc_unit": "ISCC:AAA4RJYGHHVRCZ5T",
        "readable": "META-NONE-V0-64-c8a70639eb1167b3",
        "hash_hex": "c8a70639eb1167b3",
        "hash_uint": "14458531974522955699",
        "hash_bits": "1100100010100111000001100011100111101011000100010110011110110011",
    }
    assert body["units"][1]["readable"] == "SEMANTIC-VIDEO-V0-64-67a9c3787c65c1e5"


@pytest.mark.parametrize(
    "form",
    [f"ISCC:{VIDEO}", f"iscc:{VIDEO}", "uzAFTBsinBjnrEWezZ6nDeHxlweWC4uZi9yi0-kJIXjoKXS80",
     "AAA4RJYGHHVRCZ5T-CMAWPKODPB6GLQPF-GAAYFYXGML3SRNH2-IAAUESC6HIFF2LZU"],
)
async def test_explain_normalises_every_form(client, form):
    r = await client.get(f"/api/v1/explain/{form}")
    assert r.status_code == 200
    assert (await r.get_json())["iscc"] == f"ISCC:{VIDEO}"


@pytest.mark.parametrize("bad", ["KMUIV3NRGY", "ISCC:AAAAAAAAAA2", "hello", "ISCC:"])
async def test_invalid_codes_are_400(client, bad):
    r = await client.get(f"/api/v1/explain/{bad}")
    assert r.status_code == 400
    body = await r.get_json()
    assert body["detail"].startswith("Invalid ISCC - ")
    assert r.headers["Content-Type"] == "application/problem+json"
