"""Worker failures as an HTTP client sees them: 503 with Retry-After, then service as usual."""

from __future__ import annotations

import trio
from quart import Blueprint

from kernel import API_PREFIX, hookimpl, run_sync
from tests import workfns
from tests.conftest import plugin_object

jobs = Blueprint("jobs", __name__, url_prefix=API_PREFIX)


@jobs.get("/jobs/die")
async def die() -> dict:
    await run_sync(workfns.die)
    return {}


@jobs.get("/jobs/nap/<float:seconds>")
async def nap(seconds: float) -> dict:
    return {"pid": await run_sync(workfns.nap, seconds)}


PLUGIN = plugin_object(register_blueprints=hookimpl(lambda settings: [jobs]))


async def test_killed_worker_costs_only_its_request(make_app):
    app = make_app(kernel={"plugins": ["jobs"], "max_workers": 1},
                   plugins={"jobs": PLUGIN})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        r = await client.get("/api/v1/jobs/die")
        assert r.status_code == 503
        assert r.headers["Retry-After"]
        assert r.headers["Content-Type"] == "application/problem+json"
        r = await client.get("/api/v1/jobs/nap/0.0")
        assert r.status_code == 200


async def test_full_queue_answers_503_and_timeouts_422(make_app):
    app = make_app(kernel={"plugins": ["jobs"], "max_workers": 1, "max_queue": 0,
                           "process_timeout": 2}, plugins={"jobs": PLUGIN})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        statuses: list[int] = []

        async def call(path: str) -> None:
            statuses.append((await client.get(path)).status_code)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(call, "/api/v1/jobs/nap/1.0")
            await trio.sleep(0.3)
            r = await client.get("/api/v1/jobs/nap/0.0")
            assert r.status_code == 503
            assert r.headers["Retry-After"]
        assert statuses == [200]
        r = await client.get("/api/v1/jobs/nap/10.0")
        assert r.status_code == 422
        assert (await r.get_json())["detail"] == "Processing timed out."
