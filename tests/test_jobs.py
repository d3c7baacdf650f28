"""Asynchronous jobs of the kernel (Prefer, job resource, events) with real workers and HTTP.

The jobs come from tests/jobs_plugin.py: they sleep in a real worker process, fail, or record
their worker's pid so the test can kill it from outside.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

import tests.jobs_plugin as jobs_plugin
from kernel import create_app
from kernel.job_record import JOB_ID, new_job_id
from kernel.prefer import parse_prefer
from tests.conftest import serve_live, upload_headers
from tests.iscc_fixtures import threaded_server
from tests.jobs_support import poll_until, read_events
from tests.s3_fixtures import free_ports, wait_http

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module (its worker pool starts once); tests wait for their jobs."""
    app = create_app({"kernel": {
        "media_path": str(tmp_path_factory.mktemp("jobs") / "media"), "cleanup_interval": 0,
        "log_level": "WARNING", "plugins": ["media", "slow"], "max_workers": 1,
        "max_queue": 2, "job_heartbeat": 0.3}}, env={}, plugins={"slow": jobs_plugin})
    with threaded_server(app) as url:
        yield url


@pytest.fixture
async def http(server_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server_url, timeout=60) as client:
        yield client


async def submit(http: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None,
                 ) -> httpx.Response:
    return await http.post(f"/api/v1/slow?{query}", content=b"payload",
                           headers={**upload_headers("p.bin"),
                                    **(ASYNC if headers is None else headers)})


def test_prefer_header_parsing() -> None:
    assert not parse_prefer([]).asynchronous
    assert parse_prefer(["respond-async"]).respond_async
    assert parse_prefer(["Respond-Async; foo=bar"]).respond_async
    both = parse_prefer(["return=minimal, respond-async, wait=10"])
    assert (both.respond_async, both.wait) == (True, 10.0)
    assert parse_prefer(["wait=5", "wait=100"]).wait == 5.0  # the first occurrence wins
    assert parse_prefer(['wait="7"']).wait == 7.0
    assert parse_prefer(["wait=-3"]).wait is None
    assert parse_prefer(["wait=1e9"]).wait is None
    assert not parse_prefer(["return=representation"]).asynchronous


def test_job_ids_carry_64_random_bits_after_the_media_id() -> None:
    ids = {new_job_id("0123456789abc") for _ in range(2000)}
    assert len(ids) == 2000
    assert all(JOB_ID.fullmatch(i) and i.startswith("0123456789abc") for i in ids)
    tails = {i[13:] for i in ids}
    assert len({t[:4] for t in tails}) > 900  # no shared prefix pattern in the random part


async def test_no_prefer_answers_synchronously(http: httpx.AsyncClient) -> None:
    r = await submit(http, "seconds=0", headers={})
    assert r.status_code == 201
    assert r.json() == {"slept": 0.0}
    assert r.headers["location"].startswith("/api/v1/media/")


async def test_respond_async_then_events_until_done(http: httpx.AsyncClient) -> None:
    r = await submit(http, "seconds=1")
    assert r.status_code == 202, r.text
    body = r.json()
    job_id = body["job_id"]
    assert set(body) == {"job_id", "status", "media_id"}
    assert body["status"] == "queued"
    assert job_id.startswith(body["media_id"])
    assert r.headers["location"] == f"/api/v1/jobs/{job_id}"
    assert r.headers["preference-applied"] == "respond-async"
    events, comments = await read_events(http, job_id)
    statuses = [e["status"] for e in events]
    assert statuses[-1] == "done"
    assert "processing" in statuses
    assert [e["id"] for e in events] == sorted({e["id"] for e in events})  # one per change
    assert "napping" in [e["phase"] for e in events]
    assert events[-1]["result"] == {"slept": 1.0}
    assert comments  # heartbeats while the worker slept (job_heartbeat = 0.3 s)
    state = (await http.get(f"/api/v1/jobs/{job_id}")).json()
    assert state["status"] == "done"
    assert state["result"] == {"slept": 1.0}
    assert state["elapsed_s"] >= 1.0
    assert "error" not in state


async def test_a_stream_sends_every_state_even_when_changes_come_close_together(
        http: httpx.AsyncClient) -> None:
    """"waking up" and "done" are written back to back: a stream that wakes for the first
    still sends it, then the second (one event per change, in order)."""
    for _ in range(3):
        job_id = (await submit(http, "seconds=0.3")).json()["job_id"]
        events, _ = await read_events(http, job_id)
        ids = [e["id"] for e in events]
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # no state skipped
        phases = [e["phase"] for e in events]
        assert phases[-2:] == ["waking up", "done"]


async def test_late_client_gets_the_current_state_and_last_event_id_is_honoured(
        http: httpx.AsyncClient) -> None:
    job_id = (await submit(http, "seconds=0")).json()["job_id"]
    final = await poll_until(http, job_id, {"done"})
    events, _ = await read_events(http, job_id)
    assert [e["status"] for e in events] == ["done"]  # the current state, then the end
    last = events[0]["id"]
    assert events[0]["result"] == final["result"]
    again, _ = await read_events(http, job_id, {"Last-Event-ID": str(last)})
    assert again == []  # nothing new since that event: the stream just ends
    older, _ = await read_events(http, job_id, {"Last-Event-ID": str(last - 1)})
    assert [e["id"] for e in older] == [last]


async def test_prefer_wait(http: httpx.AsyncClient) -> None:
    quick = await submit(http, "seconds=0", headers={"Prefer": "wait=30"})
    assert quick.status_code == 201
    assert quick.json() == {"slept": 0.0}
    assert quick.headers["location"].startswith("/api/v1/media/")
    slow = await submit(http, "seconds=3", headers={"Prefer": "respond-async, wait=1"})
    assert slow.status_code == 202
    assert (await poll_until(http, slow.json()["job_id"], {"done"}))["result"] == {"slept": 3.0}


async def test_failing_job_reports_the_problem_it_would_have_answered(
        http: httpx.AsyncClient) -> None:
    r = await submit(http, "mode=fail")
    job_id, media_id = r.json()["job_id"], r.json()["media_id"]
    events, _ = await read_events(http, job_id)
    assert events[-1]["status"] == "failed"
    assert events[-1]["error"] == {"type": "about:blank", "title": "Unprocessable Entity",
                                   "status": 422, "detail": "The test job failed."}
    assert "result" not in events[-1]
    # the package stays (holding the job's record) until it expires or is deleted
    assert (await http.get(f"/api/v1/media/{media_id}")).status_code == 200
    waited = await submit(http, "mode=fail", headers={"Prefer": "wait=30"})
    assert waited.status_code == 422  # as the synchronous call answers, package removed
    assert waited.headers["content-type"] == "application/problem+json"
    assert waited.json()["detail"] == "The test job failed."


async def test_queue_positions_and_status(http: httpx.AsyncClient) -> None:
    first = (await submit(http, "seconds=2")).json()["job_id"]
    second = (await submit(http, "seconds=0")).json()["job_id"]
    third = (await submit(http, "seconds=0")).json()["job_id"]
    status = (await http.get("/api/v1/-/status")).json()["jobs"]
    assert (status["processing"], status["queued"]) == (1, 2)
    assert (await http.get(f"/api/v1/jobs/{third}")).json()["queued_ahead"] == 1
    full = await submit(http, "seconds=0")
    assert full.status_code == 503
    assert "retry-after" in full.headers
    events, _ = await read_events(http, third)
    ahead = [e["queued_ahead"] for e in events if e["status"] == "queued"]
    assert ahead[0] == 1
    assert 0 in ahead
    for job_id in (first, second):
        assert (await poll_until(http, job_id, {"done"}))["queued_ahead"] == 0
    status = (await http.get("/api/v1/-/status")).json()["jobs"]
    assert (status["processing"], status["queued"]) == (0, 0)


async def test_job_whose_worker_is_killed_fails_with_503(http: httpx.AsyncClient,
                                                        tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    job_id = (await submit(http, f"mode=pid&seconds=60&pid_file={pid_file}")).json()["job_id"]
    killed: set[int] = set()
    with trio.fail_after(60):
        while len(killed) < 2:  # the pool retries once on a fresh worker, so kill both
            if pid_file.exists() and pid_file.read_text():
                pid = int(pid_file.read_text())
                if pid not in killed:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
            await trio.sleep(0.05)
    final = await poll_until(http, job_id, {"done", "failed"})
    assert final["status"] == "failed"
    assert final["error"]["status"] == 503
    assert final["error"]["detail"] == "The worker stopped unexpectedly; try again."


async def test_unknown_and_deleted_jobs_are_404(http: httpx.AsyncClient) -> None:
    for bad in ("0" * 26, "nope", "0" * 25 + "w"):
        r = await http.get(f"/api/v1/jobs/{bad}")
        assert r.status_code == 404
        assert r.json()["detail"] == "No such job."
        assert (await http.get(f"/api/v1/jobs/{bad}/events")).status_code == 404
    r = (await submit(http, "seconds=0")).json()
    await poll_until(http, r["job_id"], {"done"})
    media_id = r["media_id"]
    other = media_id + r["job_id"][13:][::-1]
    if other != r["job_id"]:  # the media id alone (with a wrong token) finds nothing
        assert (await http.get(f"/api/v1/jobs/{other}")).status_code == 404
    assert (await http.delete(f"/api/v1/media/{media_id}")).status_code == 204
    assert (await http.get(f"/api/v1/jobs/{r['job_id']}")).status_code == 404


@pytest.mark.parametrize("private_results", [False, True])
async def test_a_job_follows_the_packages_access_rule(make_app: Any,
                                                      private_results: bool) -> None:
    """Like ``GET /iscc/{id}``: the id is a shareable link unless results are private."""
    app = make_app(kernel={"plugins": ["media", "slow"], "private_results": private_results},
                   plugins={"slow": jobs_plugin})
    async with serve_live(app) as url:
        owner = httpx.AsyncClient(base_url=url, timeout=60,
                                  transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2"))
        stranger = httpx.AsyncClient(
            base_url=url, timeout=60,
            transport=httpx.AsyncHTTPTransport(local_address="127.0.0.3"))
        async with owner, stranger:
            job_id = (await submit(owner, "seconds=0")).json()["job_id"]
            await poll_until(owner, job_id, {"done"})
            expected = 403 if private_results else 200
            assert (await stranger.get(f"/api/v1/jobs/{job_id}")).status_code == expected
            events = await stranger.get(f"/api/v1/jobs/{job_id}/events")
            assert events.status_code == expected
            if private_results:
                assert events.json()["detail"] == "Only accessible by original uploader."


async def test_job_of_a_dead_instance_is_reported_failed_after_its_lease(
        make_app: Any, media_path: Path) -> None:
    """Instance A (its own process) dies mid-job; instance B on the same storage answers."""
    port = free_ports(1)[0]
    root = Path(__file__).resolve().parent.parent
    a = await trio.lowlevel.open_process(
        [sys.executable, "-m", "tests.jobs_plugin", str(media_path), str(port), "1.0"],
        cwd=root, stdin=subprocess.DEVNULL,
        start_new_session=True)  # its workers die with it (killpg below)
    try:
        await trio.to_thread.run_sync(wait_http, f"http://127.0.0.1:{port}/api/v1/-/status")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as ha:
            r = await submit(ha, "seconds=60")
            assert r.status_code == 202
            job_id = r.json()["job_id"]
            await poll_until(ha, job_id, {"processing"})
    finally:
        os.killpg(a.pid, signal.SIGKILL)
        with trio.fail_after(30):
            await a.wait()
    b = make_app(kernel={"plugins": ["media", "slow"], "job_lease": 1.0,
                         "job_poll_interval": 0.2},
                 plugins={"slow": jobs_plugin})
    async with serve_live(b) as url, httpx.AsyncClient(base_url=url, timeout=60) as hb:
        events, _ = await read_events(hb, job_id)
        assert events[-1]["status"] == "failed"
        assert events[-1]["error"]["status"] == 503
        assert "stopped before it finished" in events[-1]["error"]["detail"]
        assert (await hb.get(f"/api/v1/jobs/{job_id}")).json()["status"] == "failed"


async def test_another_instance_sees_a_running_jobs_progress_then_its_end(
        make_app: Any) -> None:
    """Progress reaches the store within ``job_poll_interval`` of the change, not only at the
    end; the instance that runs the job answers from memory."""
    kernel = {"plugins": ["media", "slow"], "max_workers": 1, "job_poll_interval": 0.2}
    a = make_app(kernel=kernel, plugins={"slow": jobs_plugin})
    b = make_app(kernel=kernel, plugins={"slow": jobs_plugin})
    async with serve_live(a) as url_a, serve_live(b) as url_b, \
            httpx.AsyncClient(base_url=url_a, timeout=60) as ha, \
            httpx.AsyncClient(base_url=url_b, timeout=60) as hb:
        job_id = (await submit(ha, "seconds=4")).json()["job_id"]
        running = await poll_until(hb, job_id, {"processing", "done", "failed"})
        while running["phase"] != "napping":  # "starting" if it was stored in between
            assert running["status"] == "processing"
            await trio.sleep(0.05)
            running = (await hb.get(f"/api/v1/jobs/{job_id}")).json()
        assert running["status"] == "processing"
        assert (await ha.get(f"/api/v1/jobs/{job_id}")).json()["phase"] == "napping"
        final = await poll_until(hb, job_id, {"done", "failed"})
    assert final["status"] == "done"
    assert final["result"] == {"slept": 4.0}
