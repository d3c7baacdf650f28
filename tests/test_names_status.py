"""Names and headers that cannot mislead, and a status page that tells strangers little."""

from __future__ import annotations

import httpx
import pytest

from kernel import clean_file_name
from tests.conftest import serve_live, upload_headers

TRICKY = {
    "invoice\u202egpj.exe": "invoicegpj.exe",  # shows as "invoiceexe.jpg"
    "\u2066evil\u2069.txt": "evil.txt",  # bidi isolates
    "zero\u200bwidth\u200d\u2060.txt": "zerowidth.txt",
    "\ufeffbom.txt": "bom.txt",
    "hangul\u3164filler.txt": "hangulfiller.txt",
    ".htaccess": "htaccess",
    "...hidden": "hidden",
    " . spaced.txt": "spaced.txt",
    "line\u2028break.txt": "linebreak.txt",
    "nbsp\u00a0name.txt": "nbsp name.txt",
    "\u200b\u200e\u202e": "upload.bin",  # nothing visible left
    "ok-name.jpg": "ok-name.jpg",
}


@pytest.mark.parametrize(("sent", "stored"), sorted(TRICKY.items()))
def test_clean_file_name(sent: str, stored: str) -> None:
    assert clean_file_name(sent) == stored


async def test_tricky_names_are_stored_and_served_clean(make_app, media_path) -> None:
    app = make_app(kernel={"plugins": ["media"]})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        for sent, stored in TRICKY.items():
            r = await http.post("/api/v1/media", content=b"x", headers=upload_headers(sent))
            assert r.status_code == 201, sent
            media_id = r.json()["media_id"]
            files = [p.name for p in (media_path / media_id).iterdir()
                     if not p.name.startswith(media_id)]
            assert files == [stored], sent
            got = await http.get(f"/api/v1/media/{media_id}")
            disposition = got.headers["content-disposition"]
            assert "\u202e" not in disposition
            assert "%E2%80%AE" not in disposition.upper()
            assert stored.encode("ascii", "replace").decode().replace("?", "_") in disposition


GOOD_TYPES = ["text/plain", "text/plain; charset=utf-8", "text/plain;charset=UTF-8",
              "image/svg+xml", 'multipart/form-data; boundary="a b"',
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "a/" + "b" * 127]
BAD_TYPES = ["text", "text/", "/plain", "text/plain; charset", "text/plain;", "../../etc",
             "text/plain, text/html", "text/pl ain", "text/plain; a=b c",
             "a/" + "b" * 128, "text/plain; x=" + "y" * 250, "x" * 10_240]


async def test_content_type_is_a_media_type_of_at_most_255_bytes(make_app) -> None:
    app = make_app(kernel={"plugins": ["media"]})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        for value in GOOD_TYPES:
            r = await http.post("/api/v1/media", content=b"x", headers=upload_headers("a", value))
            assert r.status_code == 201, value
            got = await http.get(f"/api/v1/media/{r.json()['media_id']}")
            assert got.headers["content-type"] == value
        for value in BAD_TYPES:
            r = await http.post("/api/v1/media", content=b"x", headers=upload_headers("a", value))
            assert r.status_code == 400, value
            assert r.json()["detail"].startswith("Content-Type must be a media type")
        r = await http.post("/api/v1/media", content=b"x", headers=upload_headers("a", None))
        assert r.status_code == 201  # absent is fine (stored as "")


async def _client(url: str, source: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=url, transport=transport)


async def test_status_shows_counts_only_to_status_networks(make_app) -> None:
    app = make_app(kernel={"plugins": ["media", "explain"], "trusted_proxies": ["127.0.0.1"],
                           "status_networks": ["127.0.0.0/8", "10.0.0.0/8"]})
    async with serve_live(app) as url:
        proxy, direct = await _client(url, "127.0.0.1"), await _client(url, "127.0.0.3")
        async with proxy, direct:
            full = (await direct.get("/api/v1/-/status")).json()
            assert {"version", "plugins", "kernel", "workers", "storage"} <= set(full)
            inside = await proxy.get("/api/v1/-/status", headers={"X-Forwarded-For": "10.1.2.3"})
            assert "storage" in inside.json()
            outside = await proxy.get("/api/v1/-/status",
                                      headers={"X-Forwarded-For": "203.0.113.9"})
            public = outside.json()
            assert set(public) == {"version", "plugins"}
            assert public["version"] == full["version"]
            assert public["plugins"] == [{"name": p["name"]} for p in full["plugins"]]


async def test_status_networks_can_exclude_loopback(make_app) -> None:
    app = make_app(kernel={"plugins": ["media"], "status_networks": ["127.0.0.2"]})
    async with serve_live(app) as url:
        ops, other = await _client(url, "127.0.0.2"), await _client(url, "127.0.0.1")
        async with ops, other:
            assert "storage" in (await ops.get("/api/v1/-/status")).json()
            assert "storage" not in (await other.get("/api/v1/-/status")).json()


async def test_status_shows_tool_versions_only_to_status_networks(make_app) -> None:
    """A group's section keeps what clients can do for everyone; versions only for operators."""
    app = make_app(kernel={"plugins": ["media", "iscc"], "status_networks": ["127.0.0.2"]})
    async with serve_live(app) as url:
        ops, other = await _client(url, "127.0.0.2"), await _client(url, "127.0.0.1")
        async with ops, other:
            inside = (await ops.get("/api/v1/-/status")).json()["iscc"]
            outside = (await other.get("/api/v1/-/status")).json()["iscc"]
    assert "iscc-sdk" in inside["versions"]
    assert "versions" not in outside
    assert outside["modes"] == inside["modes"]
    assert outside["tools"] == inside["tools"]
