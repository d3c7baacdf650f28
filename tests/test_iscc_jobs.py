"""POST /iscc with ``Prefer``: real ISCC jobs, their events, and a second instance on SeaweedFS."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel import create_app
from tests.conftest import serve_live, upload_headers
from tests.iscc_fixtures import IMAGE_SAMPLE, PROCESSING, build_app, threaded_server
from tests.jobs_support import poll_until, read_events
from tests.s3_fixtures import SeaweedFS, s3_table

IMAGE_ISCC = "ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = build_app(tmp_path_factory.mktemp("iscc-jobs") / "media")
    with threaded_server(app) as url:
        yield url


@pytest.fixture
async def http(server_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server_url, timeout=120) as client:
        yield client


async def post_image(http: httpx.AsyncClient, prefer: str | None) -> httpx.Response:
    headers = upload_headers("test-image.jpg", "image/jpeg")
    if prefer is not None:
        headers["Prefer"] = prefer
    return await http.post("/api/v1/iscc", content=IMAGE_SAMPLE.read_bytes(), headers=headers)


def without_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("media_id", "content")}


async def test_async_result_equals_the_synchronous_one(http: httpx.AsyncClient) -> None:
    sync = await post_image(http, None)
    assert sync.status_code == 201
    assert sync.json()["iscc"] == IMAGE_ISCC
    accepted = await post_image(http, "respond-async")
    assert accepted.status_code == 202, accepted.text
    job_id, media_id = accepted.json()["job_id"], accepted.json()["media_id"]
    events, _ = await read_events(http, job_id)
    assert events[-1]["status"] == "done"
    # the stream starts at the job's state when it connects (the contract), so a busy
    # machine may have run the first phases by then: what is seen is the route's phases in
    # their order, one event each, ending with "done"
    phases = [e["phase"] for e in events]
    order = ["waiting for a worker", "starting", "reading the file", "computing the ISCC",
             "storing the result", "done"]
    assert phases == order[order.index(phases[0]):], phases
    result = events[-1]["result"]
    assert without_ids(result) == without_ids(sync.json())
    assert result["media_id"] == media_id
    assert result["content"] == sync.json()["content"].replace(sync.json()["media_id"], media_id)
    stored = await http.get(f"/api/v1/iscc/{media_id}")
    assert stored.status_code == 200
    assert stored.json()["iscc"] == IMAGE_ISCC


async def test_prefer_wait_answers_201_like_the_synchronous_call(
        http: httpx.AsyncClient) -> None:
    r = await post_image(http, "wait=60")
    assert r.status_code == 201, r.text
    assert r.json()["iscc"] == IMAGE_ISCC
    assert r.headers["location"] == f"/api/v1/media/{r.json()['media_id']}"


async def test_a_failing_iscc_job(tmp_path: Path) -> None:
    """A job over the time limit fails with the 422 the synchronous call answers."""
    app = build_app(tmp_path / "media", kernel={"process_timeout": 0.001,
                                                     "warm_workers": False})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url, timeout=120) as http:
        job_id = (await post_image(http, "respond-async")).json()["job_id"]
        final = await poll_until(http, job_id, {"done", "failed"})
        assert final["status"] == "failed"
        assert final["error"]["status"] == 422
        assert final["error"]["detail"] == "ISCC processing timed out."
        sync = await post_image(http, None)
        assert sync.status_code == 422
        assert sync.json() == final["error"]


async def test_a_job_read_from_a_second_instance_on_s3(seaweedfs: SeaweedFS,
                                                      tmp_path: Path) -> None:
    table = s3_table(seaweedfs, tmp_path / "cache-a")

    def instance(name: str) -> Any:
        s3 = {**table, "cache_dir": str(tmp_path / f"cache-{name}")}
        return create_app({"kernel": {"storage": "s3", "plugins": [*PROCESSING, "s3"],
                                      "media_path": str(tmp_path / name), "max_workers": 1,
                                      "cleanup_interval": 0, "log_level": "WARNING",
                                      "job_poll_interval": 0.2},
                           "plugin": {"s3": s3}}, env={})

    async with serve_live(instance("a")) as url_a, serve_live(instance("b")) as url_b, \
            httpx.AsyncClient(base_url=url_a, timeout=120) as a, \
            httpx.AsyncClient(base_url=url_b, timeout=120) as b:
        accepted = await post_image(a, "respond-async")
        assert accepted.status_code == 202, accepted.text
        job_id, media_id = accepted.json()["job_id"], accepted.json()["media_id"]
        first = await b.get(f"/api/v1/jobs/{job_id}")  # the other instance knows the job
        assert first.status_code == 200
        assert first.json()["job_id"] == job_id
        events, _ = await read_events(b, job_id)  # B polls the store for A's job
        assert events[-1]["status"] == "done"
        assert events[-1]["result"]["iscc"] == IMAGE_ISCC
        assert (await b.get(f"/api/v1/iscc/{media_id}")).json()["iscc"] == IMAGE_ISCC
        assert f"{media_id}/{media_id}.job.json" in " ".join(seaweedfs.keys(table["prefix"]))
        assert (await b.delete(f"/api/v1/media/{media_id}")).status_code == 204
        assert (await a.get(f"/api/v1/jobs/{job_id}")).status_code == 404  # gone with it
