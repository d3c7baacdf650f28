"""The ``similar`` group on its embedded iscc-search index: "seen before?" for real files.

One live server per module (workers load iscc-sdk once); the index lives in the temp dir.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import iscc_core as ic
import pytest

from tests.conftest import upload_headers
from tests.iscc_fixtures import assert_problem, build_app, live_client, packages
from tests.jobs_support import parse_sse
from tests.similar_fixtures import (
    SIMILAR,
    image_variants,
    original_images,
    original_texts,
    text_variant,
)

TOKEN = "s3cret-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("similar")


@pytest.fixture(scope="module")
def api(workdir: Path):
    app = build_app(workdir / "media", kernel={"plugins": SIMILAR, "private_files": True},
                    plugin={"similar": {"index_write_token": TOKEN}})
    with live_client(app) as client:
        yield client


def unit_bits(unit: str) -> int:
    mt, _, _, length, _ = ic.decode_header(ic.decode_base32(unit.removeprefix("ISCC:")))
    return ic.decode_length(mt, length)


def similar(api: httpx.Client, data: bytes, name: str, *, add: bool = False,
            headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    query = {"add": "true"} if add else {}
    return api.post("/api/v1/similar", content=data, params={**query, **params},
                    headers={**upload_headers(name, None), **(headers or {})})


@pytest.fixture(scope="module")
def catalogue(api: httpx.Client, workdir: Path) -> dict[str, str]:
    """The originals, added once: images with ``add=true``, texts through ``POST /index``."""
    assert api.delete("/api/v1/index", headers=AUTH).status_code == 204
    ids: dict[str, str] = {}
    for name, data in original_images().items():
        r = similar(api, data, name, add=True, headers=AUTH)
        assert r.status_code == 201, r.text
        ids[r.json()["iscc_id"]] = name
    for name, data in original_texts().items():
        stored = api.post("/api/v1/media", content=data, headers=upload_headers(name))
        assert stored.status_code == 201
        media_id = stored.json()["media_id"]
        r = api.post("/api/v1/index", headers=AUTH,
                     json={"media_id": media_id, "metadata": {"name": name}})
        assert r.status_code == 201, r.text
        ids[r.json()["iscc_id"]] = name
    return ids


@pytest.mark.parametrize("original", sorted(original_images()))
def test_image_variants_find_their_original(api, catalogue, workdir, original) -> None:
    before = packages(workdir / "media")
    for variant, data in image_variants(original_images()[original]).items():
        r = similar(api, data, f"{variant}.jpg")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["iscc_id"] is None
        assert body["units"]
        assert all(unit_bits(u) == 256 for u in body["units"])
        top = body["matches"][0]
        assert catalogue[top["iscc_id"]] == original, (variant, body["matches"][:2])
        assert top["types"]["CONTENT_IMAGE_V0"] >= 0.9
        assert "META_NONE_V0" not in top["types"]
    assert packages(workdir / "media") == before  # uploads to /similar are never kept


def test_async_search_answers_what_the_synchronous_one_does(api, catalogue, workdir) -> None:
    """``Prefer: respond-async``: 202, then the job's result is the synchronous body; the
    upload stays with its job. ``Prefer: wait`` within time answers like no ``Prefer``."""
    data = image_variants(original_images()["top-right.jpg"])["greyscale"]
    sync = similar(api, data, "grey.jpg")
    assert sync.status_code == 200, sync.text
    before = packages(workdir / "media")
    accepted = similar(api, data, "grey.jpg", headers={"Prefer": "respond-async"})
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["preference-applied"] == "respond-async"
    job_id, media_id = accepted.json()["job_id"], accepted.json()["media_id"]
    stream = api.get(f"/api/v1/jobs/{job_id}/events")  # the stream ends after done/failed
    assert stream.status_code == 200
    events, _ = parse_sse([*stream.text.splitlines(), ""])
    assert events[-1]["status"] == "done", events[-1]
    assert "searching the index" in [e["phase"] for e in events]
    assert events[-1]["result"] == sync.json()
    assert packages(workdir / "media") == before | {media_id}  # kept with its job
    assert api.get(f"/api/v1/jobs/{job_id}").json()["result"] == sync.json()
    assert api.delete(f"/api/v1/media/{media_id}").status_code == 204
    waited = similar(api, data, "grey.jpg", headers={"Prefer": "wait=60"})
    assert waited.status_code == 200, waited.text
    assert waited.json() == sync.json()
    assert "location" not in waited.headers
    assert packages(workdir / "media") == before  # answered in time: nothing kept


@pytest.mark.parametrize("original", sorted(original_texts()))
def test_text_with_a_paragraph_changed_finds_its_original(api, catalogue, original) -> None:
    r = similar(api, text_variant(original_texts()[original]), "changed.txt")
    assert r.status_code == 200, r.text
    body = r.json()
    assert catalogue[body["matches"][0]["iscc_id"]] == original
    assert body["matches"][0]["metadata"] == {"name": original}
    chunks = body["chunk_matches"][0]
    assert catalogue[chunks["iscc_id"]] == original
    content = chunks["types"]["CONTENT_TEXT_V0"]
    assert 0 < content["matches"] <= content["queried"]
    assert all(c["size"] > 0 and c["freq"] >= 1 for c in content["chunks"])


def test_query_with_codes_finds_the_same(api, catalogue) -> None:
    data = original_images()["top-right.jpg"]
    codes = similar(api, image_variants(data)["greyscale"], "grey.jpg").json()
    r = api.post("/api/v1/similar/query", json={"iscc_code": codes["iscc"]})
    assert r.status_code == 200, r.text
    assert catalogue[r.json()["matches"][0]["iscc_id"]] == "top-right.jpg"
    r = api.post("/api/v1/similar/query", params={"limit": "1"}, json={"units": codes["units"]})
    assert [catalogue[m["iscc_id"]] for m in r.json()["matches"]] == ["top-right.jpg"]


def test_entry_holds_codes_and_published_metadata_only(api, catalogue, workdir) -> None:
    iscc_id = next(i for i, name in catalogue.items() if name == "spec-0.txt")
    r = api.get(f"/api/v1/index/{iscc_id}")
    assert r.status_code == 200
    entry = r.json()
    # iscc-search keeps simprints in their own index, not in the entry it returns
    assert set(entry) == {"iscc_id", "iscc_code", "units", "metadata"}
    assert entry["metadata"] == {"name": "spec-0.txt"}
    assert all(unit_bits(u) == 256 for u in entry["units"])
    assert api.get(f"/api/v1/index/{iscc_id.removeprefix('ISCC:')}").json() == entry
    # no media id and no owner hash anywhere in the index's files
    secrets = set()
    for meta in (workdir / "media").glob("*/*.meta.json"):
        stored = json.loads(meta.read_text())
        secrets |= {stored["media_id"].encode(), stored["user"].encode()}
    assert secrets
    for path in (workdir / "similar-index").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in secrets), path


def test_statistics_and_status(api, catalogue) -> None:
    stats = api.get("/api/v1/index").json()
    assert stats["backend"] == "usearch"
    assert stats["name"] == "similar"
    assert stats["entries"] == len(catalogue)
    section = api.get("/api/v1/-/status").json()["similar"]
    assert section == {"backend": "usearch", "name": "similar", "entries": len(catalogue),
                       "available": True, "write_token_required": True, "writable": False}


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("POST", "/api/v1/similar?add=true", {"content": b"hello", "headers": upload_headers()}),
    ("POST", "/api/v1/index", {"json": {"media_id": "0" * 13}}),
    ("DELETE", "/api/v1/index", {}),
])
@pytest.mark.parametrize("auth", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer"])
def test_writes_need_the_token(api, catalogue, method, path, kwargs, auth) -> None:
    options = dict(kwargs)
    headers = dict(options.pop("headers", {}))
    if auth is not None:
        headers["Authorization"] = auth
    r = api.request(method, path, headers=headers, **options)
    assert_problem(r, 403)
    assert api.get("/api/v1/index").json()["entries"] == len(catalogue)


def test_reads_need_no_token(api, catalogue) -> None:
    assert similar(api, b"plain words", "a.txt").status_code == 200
    assert api.post("/api/v1/similar/query", json={"units": [
        "ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJNRTEGLGHFWXFGNDZHSMO4HEZGZI"]}).status_code == 200


def test_index_add_respects_the_uploader(api, catalogue, workdir) -> None:
    from tests.iscc_fixtures import make_package

    make_package(workdir / "media", "0foreign00000", "x.txt", b"someone else's words")
    r = api.post("/api/v1/index", headers=AUTH, json={"media_id": "0foreign00000"})
    assert_problem(r, 403)
    r = api.post("/api/v1/index", headers=AUTH, json={"media_id": "0nothing00000"})
    assert_problem(r, 404)


@pytest.mark.parametrize(("body", "field"), [
    ({}, "iscc_code"),
    ({"iscc_code": "ISCC:KECWRY3VY6R5SNV4"}, "iscc_code"),
    ({"iscc_code": "ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJNRTEGLGHFWXFGNDZHSMO4HEZGZI"}, "iscc_code"),
    ({"iscc_code": 7}, "iscc_code"),
    ({"units": ["ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJ", "nope"]}, "units[0]"),
    ({"units": ["ISCC:MAIGIIFJRDGEQQAA"]}, "units[0]"),
    ({"units": ["ISCC:KECWRY3VY6R5SNV4YNBTBHR4T2HGP3HKVFO7TYUP2BKVFG724W63HVI"]}, "units[0]"),
    ({"units": "ISCC:EED4GQZQTY6J5DTH"}, "units"),
    ({"simprints": {"content": ["s4bJ4XUQ3j9PduFxmz6-4jPVv6fHet2buw0-68-oXSg"]}},
     "simprints.content"),
    ({"simprints": {"CONTENT_TEXT_V0": []}}, "simprints.CONTENT_TEXT_V0"),
    ({"simprints": {"CONTENT_TEXT_V0": ["s4bJ4XUQ3j9P+uFxmz6/4jPV"]}},
     "simprints.CONTENT_TEXT_V0[0]"),
    ({"simprints": {"CONTENT_TEXT_V0": ["abc"]}}, "simprints.CONTENT_TEXT_V0[0]"),
    ({"simprints": {"CONTENT_TEXT_V0": "s4bJ4XUQ3j9PduFxmz6-4jPVv6fHet2buw0-68-oXSg"}},
     "simprints"),
    ({"iscc_code": "ISCC:KECWRY3VY6R5SNV4YNBTBHR4T2HGP3HKVFO7TYUP2BKVFG724W63HVI",
      "simprints": None}, "simprints"),
])
def test_malformed_query_is_a_400_naming_the_field(api, body, field) -> None:
    detail = assert_problem(api.post("/api/v1/similar/query", json=body), 400)["detail"]
    assert field in detail


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_bad_limit_is_a_400(api, limit) -> None:
    r = api.post("/api/v1/similar/query", params={"limit": limit},
                 json={"units": ["ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJNRTEGLGHFWXFGNDZHSMO4HEZGZI"]})
    assert "limit" in assert_problem(r, 400)["detail"]


@pytest.mark.parametrize(("iscc_id", "status"), [
    ("ISCC:MAIGIIFJRDGEQQAA", 404), ("MAIGIIFJRDGEQQAA", 404),
    ("ISCC:EED4GQZQTY6J5DTH", 400), ("not-an-id", 400),
])
def test_unknown_or_malformed_iscc_id(api, iscc_id, status) -> None:
    assert_problem(api.get(f"/api/v1/index/{iscc_id}"), status)


def test_bad_add_bodies(api, catalogue) -> None:
    for body in ([], {"media_id": "UPPER"}, {"media_id": "0" * 13, "metadata": {"name": 3}},
                 {"media_id": "0" * 13, "metadata": {"ref": "javascript:alert(1)"}}):
        assert_problem(api.post("/api/v1/index", headers=AUTH, json=body), 400)
    assert api.get("/api/v1/index").json()["entries"] == len(catalogue)


def test_group_disabled_answers_404(tmp_path: Path) -> None:
    app = build_app(tmp_path / "media", kernel={"plugins": ["media", "iscc"],
                                                "warm_workers": False})
    with live_client(app) as client:
        for method, path in (("POST", "/api/v1/similar"), ("POST", "/api/v1/similar/query"),
                             ("GET", "/api/v1/index"), ("POST", "/api/v1/index"),
                             ("DELETE", "/api/v1/index"),
                             ("GET", "/api/v1/index/ISCC:MAIGIIFJRDGEQQAA")):
            assert_problem(client.request(method, path), 404)
        assert "similar" not in client.get("/api/v1/-/status").json()
    assert not (tmp_path / "similar-index").exists()


def test_enabled_without_iscc_search_fails_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "plugins.toml"
    config.write_text(f'[kernel]\nplugins = ["media", "similar"]\nmedia_path = "{tmp_path}"\n')
    hide = ("import sys; sys.modules['iscc_search'] = None; "
            "from kernel.__main__ import main; sys.exit(main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", hide, "--config", str(config),
                          "--bind", "127.0.0.1:0"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "iscc-search is not installed" in lines[0], run.stderr
    assert 'pip install -e ".[search]"' in lines[0]


async def test_lmdb_backend_is_iscc_search_lmdb_index(make_app, tmp_path: Path) -> None:
    app = make_app(kernel={"plugins": ["similar"]},
                   plugin={"similar": {"index_uri": f"lmdb://{tmp_path / 'lmdb-index'}"}})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        stats = await (await client.get("/api/v1/index")).get_json()
        assert stats == {"name": "similar", "backend": "lmdb", "entries": 0, "size_mb": 0}
        found = await client.post("/api/v1/similar/query", json={"units": [
            "ISCC:EED4GQZQTY6J5DTHNDQ7S7EGNENJNRTEGLGHFWXFGNDZHSMO4HEZGZI"]})
        assert await found.get_json() == {"matches": [], "chunk_matches": []}
    assert (tmp_path / "lmdb-index" / "similar.lmdb").is_file()


@pytest.mark.parametrize(("table", "key"), [
    ({"index_uri": "/var/lib/index"}, "index_uri"),
    ({"index_uri": "memory://"}, "index_uri"),
    ({"index_url": "ftp://127.0.0.1:8190"}, "index_url"),
    ({"index_name": "Not-Valid"}, "index_name"),
    ({"index_timeout": 0}, "index_timeout"),
    ({"index_token": "x"}, "index_token"),
])
def test_bad_settings_stop_start_up_naming_the_key(make_app, table, key) -> None:
    from kernel import ConfigError

    with pytest.raises(ConfigError, match=key) as caught:
        make_app(kernel={"plugins": ["similar"]}, plugin={"similar": table})
    assert "\n" not in str(caught.value)
