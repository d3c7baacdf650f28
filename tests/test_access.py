"""Unguessable ids, the one access rule per package, keyed owner identities, site_address URLs.

Strangers and owners are real clients on different loopback addresses (127.0.0.1 and
127.0.0.2) talking to a real hypercorn server.
"""

from __future__ import annotations

import base64
import logging
import re
import stat

import blake3
import httpx
import pytest
from quart import Blueprint

from kernel import ConfigError, hookimpl, new_media_id
from kernel.storage import UploadMeta
from tests.conftest import serve_live, upload_headers
from tests.iscc_fixtures import PNG_SAMPLE, PROCESSING

MEDIA_ID = re.compile(r"[a-v0-9]{13}")


def id_bits(media_id: str) -> int:
    raw = base64.b32hexdecode(media_id.upper() + "===")
    assert len(raw) == 8
    return int.from_bytes(raw, "big")


def check_random(ids: list[str]) -> None:
    """Distinct, well-formed, no common prefix, no counter steps, every bit about half set."""
    assert all(MEDIA_ID.fullmatch(i) for i in ids)
    values = [id_bits(i) for i in ids]
    assert len(set(values)) == len(values)
    n = len(values)
    # Flakes share their 48-bit time prefix; 64 random bits leave ~n²/2³³ 32-bit collisions
    # (0.012 expected for 10,000 ids)
    assert len({v >> 32 for v in values}) >= n - max(5, n // 1000)
    # consecutive Flakes differ by one; random ids almost never come within 2^40
    assert all(abs(a - b) >= 1 << 40 for a, b in zip(values, values[1:], strict=False))
    sigma = (n * 0.25) ** 0.5
    for bit in range(64):
        ones = sum((v >> bit) & 1 for v in values)
        assert abs(ones - n / 2) < 5 * sigma, f"bit {bit} set in {ones} of {n} ids"


def test_ten_thousand_ids_are_random() -> None:
    check_random([new_media_id() for _ in range(10_000)])


async def _client(url: str, source: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=60)


async def test_ids_handed_out_over_http_are_random(make_app) -> None:
    app = make_app(kernel={"plugins": ["media"]})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        ids = []
        for _ in range(200):
            r = await http.post("/api/v1/media", content=b"x", headers=upload_headers())
            ids.append(r.json()["media_id"])
    check_random(ids)


@pytest.mark.parametrize("private_results", [False, True])
async def test_stranger_and_owner(make_app, private_results: bool) -> None:
    """Download, delete and embed are the owner's; results too with ``private_results``."""
    app = make_app(kernel={"plugins": PROCESSING, "private_results": private_results,
                           "max_workers": 1})
    async with serve_live(app) as url:
        owner, stranger = await _client(url, "127.0.0.1"), await _client(url, "127.0.0.2")
        async with owner, stranger:
            r = await owner.post("/api/v1/iscc", content=PNG_SAMPLE.read_bytes(),
                                 headers=upload_headers("cat.png", "image/png"))
            assert r.status_code == 201, r.text
            media_id = r.json()["media_id"]
            result_paths = [f"/api/v1/iscc/{media_id}", f"/api/v1/metadata/{media_id}"]
            forbidden = [("GET", f"/api/v1/media/{media_id}"),
                         ("DELETE", f"/api/v1/media/{media_id}")]
            if private_results:
                forbidden += [("GET", path) for path in result_paths]
            for method, path in forbidden:
                r = await stranger.request(method, path)
                assert r.status_code == 403, (method, path)
                assert r.json()["detail"] == "Only accessible by original uploader."
                assert "Another Cat Lover" not in r.text
            r = await stranger.post(f"/api/v1/metadata/{media_id}", json={"name": "x"})
            assert r.status_code == 403
            if not private_results:  # a shareable result link
                for path in result_paths:
                    assert (await stranger.get(path)).status_code == 200, path
            for path in result_paths:
                assert (await owner.get(path)).status_code == 200, path
            assert (await owner.get(f"/api/v1/media/{media_id}")).status_code == 200
            # an unknown id is a 404 for everyone, with each route's own detail
            r = await stranger.get("/api/v1/iscc/0000000000000")
            assert (r.status_code, r.json()["detail"]) == (404, "No ISCC-CODE found.")
            assert (await owner.delete(f"/api/v1/media/{media_id}")).status_code == 204


async def test_owner_identity_is_keyed_and_survives_restarts(make_app, media_path, caplog):
    caplog.set_level(logging.INFO)
    app = make_app(kernel={"plugins": ["media"], "log_level": "INFO"})
    async with serve_live(app) as url, await _client(url, "127.0.0.2") as http:
        r = await http.post("/api/v1/media", content=b"mine", headers=upload_headers())
        media_id = r.json()["media_id"]
    key_file = media_path / ".owner_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = bytes.fromhex(key_file.read_text().strip())
    meta = UploadMeta.from_json((media_path / media_id / f"{media_id}.meta.json").read_bytes())
    assert meta.user != blake3.blake3(b"127.0.0.2").hexdigest()  # not the reversible hash
    assert meta.user == blake3.blake3(b"127.0.0.2", key=key).hexdigest()
    assert meta.created > 0
    logged = " ".join(rec.getMessage() for rec in caplog.records)
    assert meta.user[:8] in logged
    assert meta.user[:9] not in logged

    restarted = make_app(kernel={"plugins": ["media"]})
    async with serve_live(restarted) as url:
        owner, stranger = await _client(url, "127.0.0.2"), await _client(url, "127.0.0.3")
        async with owner, stranger:
            assert (await owner.get(f"/api/v1/media/{media_id}")).content == b"mine"
            assert (await stranger.get(f"/api/v1/media/{media_id}")).status_code == 403
    assert bytes.fromhex(key_file.read_text().strip()) == key


async def test_owner_key_setting_is_used_and_nothing_is_written(make_app, media_path):
    app = make_app(kernel={"plugins": ["media"], "owner_key": "a deployment secret"})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        r = await http.post("/api/v1/media", content=b"x", headers=upload_headers())
        media_id = r.json()["media_id"]
    other = make_app(kernel={"plugins": ["media"], "owner_key": "another secret"})
    async with serve_live(other) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get(f"/api/v1/media/{media_id}")).status_code == 403
    assert not (media_path / ".owner_key").exists()


async def test_host_header_never_reaches_an_answer(make_app) -> None:
    app = make_app(kernel={"plugins": PROCESSING, "max_workers": 1,
                           "site_address": "https://iscc.example.org"})
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
        answers = [
            await http.post("/api/v1/media", content=b"x", headers={**upload_headers(), **evil}),
            await http.post("/api/v1/iscc", content=PNG_SAMPLE.read_bytes(),
                            headers={**upload_headers("a.png", "image/png"), **evil}),
        ]
        media_id = answers[-1].json()["media_id"]
        answers += [
            await http.post(f"/api/v1/metadata/{media_id}", json={"name": "n"}, headers=evil),
            await http.get(f"/api/v1/iscc/{media_id}", headers=evil),
            await http.get(f"/api/v1/media/{media_id}", headers=evil),
            await http.get("/api/v1/nothing-here", headers=evil),
            await http.get("/api/v1/-/status", headers=evil),
            await http.post("/api/v1/media", content=b"x", headers=evil),  # 400
        ]
    assert [a.status_code for a in answers] == [201, 201, 201, 200, 200, 404, 200, 400]
    assert answers[0].json()["content"].startswith("https://iscc.example.org/api/v1/media/")
    for answer in answers:
        assert b"evil.example" not in answer.content
        assert "evil.example" not in str(answer.headers)


def test_a_route_naming_a_package_must_use_the_access_rule(make_app) -> None:
    blueprint = Blueprint("sneaky", __name__, url_prefix="/api/v1")

    @blueprint.get("/peek/<mid:media_id>")
    async def peek(media_id: str) -> str:
        return media_id

    class Sneaky:
        @hookimpl
        def register_blueprints(self, settings):
            return [blueprint]

    with pytest.raises(ConfigError, match="package_route"):
        make_app(kernel={"plugins": ["media", "sneaky"]}, plugins={"sneaky": Sneaky()})
