"""The ``similar`` group on a real ``iscc-search serve`` shared by two instances.

The server runs once per session on 127.0.0.1; each test uses an index name of its own.
A server that is down, hangs or refuses our key gives 503 with ``Retry-After``, never a hang.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio

from tests.conftest import upload_headers
from tests.iscc_fixtures import assert_problem, build_app, live_client, packages
from tests.similar_fixtures import (
    SIMILAR,
    free_port,
    image_variants,
    original_images,
    original_texts,
    search_server,
    text_variant,
)

API_SECRET = secrets.token_hex(16)
UNIT = "ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJNRTEGLGHFWXFGNDZHSMO4HEZGZI"


@pytest.fixture(scope="session")
def search_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with search_server(tmp_path_factory.mktemp("iscc-search"), API_SECRET) as url:
        yield url


def remote(url: str, name: str, **extra: object) -> dict:
    return {"similar": {"index_url": url, "index_api_key": API_SECRET, "index_name": name,
                        **extra}}


def test_two_instances_see_each_others_additions(search_url, tmp_path: Path) -> None:
    a = build_app(tmp_path / "a" / "media", kernel={"plugins": SIMILAR, "max_workers": 1},
                  plugin=remote(search_url, "shared"))
    b = build_app(tmp_path / "b" / "media", kernel={"plugins": SIMILAR, "max_workers": 1},
                  plugin=remote(search_url, "shared"))
    photo = original_images()["demo.jpg"]
    text = original_texts()["spec-1.txt"]
    with live_client(a) as api_a, live_client(b) as api_b:
        assert api_a.delete("/api/v1/index").status_code == 204
        added = api_a.post("/api/v1/similar", params={"add": "true"}, content=photo,
                           headers=upload_headers("demo.jpg", "image/jpeg"))
        assert added.status_code == 201, added.text
        photo_id = added.json()["iscc_id"]

        stored = api_b.post("/api/v1/media", content=text, headers=upload_headers("spec.txt"))
        published = api_b.post("/api/v1/index", json={
            "media_id": stored.json()["media_id"],
            "metadata": {"name": "ISCC spec", "ref": "https://example.org/spec"}})
        assert published.status_code == 201, published.text
        text_id = published.json()["iscc_id"]

        seen = api_b.post("/api/v1/similar", content=image_variants(photo)["half-size"],
                          headers=upload_headers("small.jpg", "image/jpeg"))
        assert seen.status_code == 200
        assert seen.json()["matches"][0]["iscc_id"] == photo_id
        assert api_b.get(f"/api/v1/index/{photo_id}").status_code == 200

        found = api_a.post("/api/v1/similar", content=text_variant(text),
                           headers=upload_headers("edited.txt"))
        top = found.json()["matches"][0]
        assert top["iscc_id"] == text_id
        assert top["metadata"] == {"name": "ISCC spec", "ref": "https://example.org/spec"}
        assert found.json()["chunk_matches"][0]["iscc_id"] == text_id

        for api in (api_a, api_b):
            assert api.get("/api/v1/index").json() == {
                "name": "shared", "backend": "remote", "entries": 2, "size_mb": 0}
            section = api.get("/api/v1/-/status").json()["similar"]
            assert section["available"]
            assert section["writable"]
            assert section["entries"] == 2
        assert not packages(tmp_path / "a" / "media")  # the /similar upload was not kept


async def test_drop_on_one_instance_empties_the_other(search_url, make_app) -> None:
    a = make_app(kernel={"plugins": ["similar"]}, plugin=remote(search_url, "dropped"))
    b = make_app(kernel={"plugins": ["similar"]}, plugin=remote(search_url, "dropped"))
    async with a.test_app() as ta, b.test_app() as tb:
        ca, cb = ta.test_client(), tb.test_client()
        assert (await ca.get("/api/v1/index")).status_code == 200
        assert (await cb.delete("/api/v1/index")).status_code == 204
        assert (await (await ca.get("/api/v1/index")).get_json())["entries"] == 0
        query = await ca.post("/api/v1/similar/query", json={"units": [UNIT]})
        assert (await query.get_json()) == {"matches": [], "chunk_matches": []}


async def _assert_unavailable(client) -> None:
    for method, path, kwargs in (
            ("POST", "/api/v1/similar/query", {"json": {"units": [UNIT]}}),
            ("GET", "/api/v1/index", {}),
            ("GET", "/api/v1/index/ISCC:MAIGIIFJRDGEQQAA", {}),
            ("DELETE", "/api/v1/index", {})):
        with trio.fail_after(60):  # a guard against a hang, not a performance figure
            r = await client.open(path, method=method, **kwargs)
        assert r.status_code == 503, (path, await r.get_data(as_text=True))
        assert r.headers["Content-Type"] == "application/problem+json"
        assert int(r.headers["Retry-After"]) > 0
    status = await (await client.get("/api/v1/-/status")).get_json()
    assert status["similar"]["available"] is False
    assert status["similar"]["writable"] is False


async def test_server_down_is_503_with_retry_after(make_app) -> None:
    app = make_app(kernel={"plugins": ["similar"]},
                   plugin=remote(f"http://127.0.0.1:{free_port()}", "down"))
    async with app.test_app() as test_app:
        await _assert_unavailable(test_app.test_client())


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        sock.close()


async def test_server_that_hangs_is_503_not_a_hang(make_app, silent_server) -> None:
    app = make_app(kernel={"plugins": ["similar"]},
                   plugin=remote(silent_server, "hangs", index_timeout=0.3))
    async with app.test_app() as test_app:
        await _assert_unavailable(test_app.test_client())


async def test_wrong_api_key_is_503(search_url, make_app) -> None:
    app = make_app(kernel={"plugins": ["similar"]},
                   plugin={"similar": {"index_url": search_url, "index_api_key": "wrong",
                                       "index_name": "refused"}})
    async with app.test_app() as test_app:
        await _assert_unavailable(test_app.test_client())


def test_upload_to_a_down_index_leaves_nothing(tmp_path: Path) -> None:
    app = build_app(tmp_path / "media", kernel={"plugins": SIMILAR, "max_workers": 1},
                    plugin=remote(f"http://127.0.0.1:{free_port()}", "down"))
    with live_client(app) as api:
        r = api.post("/api/v1/similar", params={"add": "true"},
                     content=original_images()["turned.jpg"],
                     headers=upload_headers("turned.jpg", "image/jpeg"))
        assert_problem(r, 503)
        assert r.headers["Retry-After"]
    assert not packages(tmp_path / "media")


def test_search_server_answers_only_on_loopback(search_url) -> None:
    assert search_url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{search_url}/indexes", timeout=10).status_code == 401  # needs the key
