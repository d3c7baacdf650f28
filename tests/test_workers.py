"""The trio-parallel worker pool, with real worker processes."""

from __future__ import annotations

import os

import pytest
import trio

from kernel.errors import JobTimeout, ServiceUnavailable
from kernel.workers_parallel import TrioParallelWorkers
from tests import workfns


@pytest.fixture
async def pool():
    workers = TrioParallelWorkers(max_workers=1, max_queue=1, timeout=20)
    async with workers:
        yield workers


async def test_run_sync_returns_the_result_from_another_process(pool):
    assert await pool.run_sync(workfns.add, 2, 3) == 5
    assert await pool.run_sync(workfns.pid) != os.getpid()
    assert pool.statistics()["completed"] == 2


async def test_job_exceptions_propagate(pool):
    with pytest.raises(ValueError, match="boom"):
        await pool.run_sync(workfns.fail, "boom")


async def test_worker_killed_once_is_retried_on_a_fresh_worker(pool, tmp_path):
    marker = tmp_path / "marker"
    assert await pool.run_sync(workfns.die_once, str(marker)) == "survived"
    assert marker.exists()
    assert pool.statistics()["crashed"] == 1


async def test_worker_killed_twice_gives_503_and_the_pool_keeps_serving(pool):
    with pytest.raises(ServiceUnavailable) as info:
        await pool.run_sync(workfns.die)
    assert info.value.status == 503
    assert "Retry-After" in info.value.headers
    assert await pool.run_sync(workfns.add, 1, 1) == 2


async def test_job_over_the_time_limit_is_stopped_and_its_worker_replaced():
    workers = TrioParallelWorkers(max_workers=1, max_queue=1, timeout=2)
    async with workers:
        first = await workers.run_sync(workfns.pid)
        with pytest.raises(JobTimeout):
            await workers.run_sync(workfns.nap, 30)
        assert workers.statistics()["timed_out"] == 1
        second = await workers.run_sync(workfns.pid)
        assert second != first  # the worker that ran too long was killed


async def test_admission_is_bounded_by_max_queue(pool):
    results: list[object] = []

    async def job(seconds: float) -> None:
        try:
            results.append(await pool.run_sync(workfns.nap, seconds))
        except ServiceUnavailable as exc:
            results.append(exc)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(job, 1.0)  # runs
        await trio.sleep(0.2)
        nursery.start_soon(job, 0.0)  # waits (queue holds 1)
        await trio.sleep(0.2)
        assert pool.statistics()["queued"] == 1
        with pytest.raises(ServiceUnavailable) as info:
            await pool.run_sync(workfns.add, 1, 2)  # one too many
        assert info.value.headers["Retry-After"]
    assert len(results) == 2
    assert not any(isinstance(r, Exception) for r in results)
    assert pool.statistics()["rejected"] == 1


async def test_warm_starts_every_worker():
    workers = TrioParallelWorkers(max_workers=2, max_queue=4, timeout=20)
    async with workers:
        await workers.warm()
        assert workers.statistics()["idle"] == 2


async def test_not_started_pool_answers_503():
    workers = TrioParallelWorkers(max_workers=1, max_queue=1, timeout=1)
    with pytest.raises(ServiceUnavailable):
        await workers.run_sync(workfns.add, 1, 2)


async def test_workers_run_at_lower_priority_than_the_server():
    workers = TrioParallelWorkers(max_workers=1, max_queue=1, timeout=20, niceness=5)
    async with workers:
        assert await workers.run_sync(os.nice, 0) == os.nice(0) + 5
