"""The job sandbox with real worker processes and real child processes (checked in /proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import trio

from kernel.errors import JobTimeout, JobTooComplex, NotFound, ServiceUnavailable
from kernel.sandbox import JobRoot, place_input
from kernel.workers_parallel import TrioParallelWorkers
from tests import workfns

ROOT = Path(__file__).resolve().parents[1]


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:].split()[0] != b"Z"


def tool_seconds(n: int) -> str:
    """How long a test's ``sleep`` tool runs: about an hour, and a command line no other
    test run on the machine has (the fraction is this run's pid), for :func:`processes_with`."""
    return f"{3600 + n}.{os.getpid()}"


def processes_with(marker: str) -> list[int]:
    """Running processes whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if marker.encode() in cmdline and alive(int(entry)):
            found.append(int(entry))
    return found


def pool(tmp_path: Path, **options: object) -> TrioParallelWorkers:
    settings: dict = {"max_workers": 1, "max_queue": 1, "timeout": 20,
                      "work_path": tmp_path / "work"}
    settings.update(options)
    return TrioParallelWorkers(**settings)  # type: ignore[arg-type]


def entries(path: Path) -> list[str]:
    """What is left under the work root, below the instance directories."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")
                  if not p.name.startswith("w") or p.parent == path)


async def test_a_job_runs_in_a_private_directory_emptied_after_it(tmp_path):
    workers = pool(tmp_path)
    async with workers:
        seen = await workers.run_sync(workfns.job_environment)
        left = await workers.run_sync(workfns.leave_temp_files)
        assert workers.jobs.path is not None
        instance = workers.jobs.path
        assert Path(seen["cwd"]).parent == instance
        assert seen["tmp"] == seen["env"] == seen["cwd"]
        assert seen["sid"] == seen["pid"]  # the worker leads its own session
        assert Path(left).parent.parent == instance
        assert not Path(left).exists()
        # what is left are emptied private directories kept for later jobs
        spares = [p for p in instance.iterdir() if not p.name.startswith("w")]
        assert spares == [Path(seen["cwd"])]
        assert list(spares[0].iterdir()) == []
        assert oct(spares[0].stat().st_mode & 0o777) == "0o700"
    assert list((tmp_path / "work").iterdir()) == []


async def test_a_reused_directory_holds_only_the_new_jobs_input(tmp_path):
    first, second = tmp_path / "a" / "first.jpg", tmp_path / "b" / "second.jpg"
    for source in (first, second):
        source.parent.mkdir()
        source.write_bytes(source.name.encode())
    workers = pool(tmp_path)
    async with workers:
        async with workers.open_job() as job:
            await job.add_input(first)
            used = job.path
            await job.run(workfns.leave_temp_files)
            await job.run(workfns.leave_hostile_leftovers)
        async with workers.open_job() as job:
            assert job.path == used  # reused, not made anew
            assert oct(job.path.stat().st_mode & 0o777) == "0o700"
            await job.add_input(second)
            assert await job.run(workfns.job_listing) == ["second.jpg"]
    assert first.read_bytes() == b"first.jpg"  # the input link went, the upload stayed


async def test_concurrent_jobs_get_different_directories(tmp_path):
    workers = pool(tmp_path, max_workers=2, max_queue=2)
    async with workers, workers.open_job() as one, workers.open_job() as two:
        assert one.path != two.path
        assert {p.parent for p in (one.path, two.path)} == {workers.jobs.path}


async def test_a_directory_of_a_job_that_failed_is_removed_not_reused(tmp_path):
    workers = pool(tmp_path, timeout=2)
    async with workers:
        await workers.run_sync(workfns.add, 1, 1)
        async with workers.open_job() as job:
            used = job.path
        assert used.exists()  # a normal end: kept as a spare
        async def timed_out_job() -> Path:
            async with workers.open_job() as job:
                assert job.path == used
                await job.run(workfns.hang_in_tool, tool_seconds(0))
            return job.path  # pragma: no cover

        with pytest.raises(JobTimeout):
            await timed_out_job()
        assert not used.exists()
        async with workers.open_job() as job:
            assert job.path != used
        assert processes_with(f"sleep {tool_seconds(0)} ") == []


async def test_an_input_is_a_read_only_link_outside_storage(tmp_path):
    stored = tmp_path / "media" / "abc" / "photo.jpg"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"jpeg")
    workers = pool(tmp_path)
    async with workers:
        async with workers.open_job() as job:
            private = await job.add_input(stored)
            assert private.parent == job.path
            assert private.name == "photo.jpg"
            assert private.read_bytes() == b"jpeg"
            assert not os.access(private, os.W_OK) or os.geteuid() == 0
            assert oct(private.stat().st_mode & 0o777) == "0o444"
            assert await job.run(workfns.add, 1, 2) == 3
        assert list(job.path.iterdir()) == []
        assert stored.read_bytes() == b"jpeg"
        assert stored.stat().st_nlink == 1


async def test_a_missing_input_is_404(tmp_path):
    workers = pool(tmp_path)
    async with workers, workers.open_job() as job:
        with pytest.raises(NotFound) as info:
            await job.add_input(tmp_path / "gone" / "photo.jpg")
    assert info.value.detail == "File not found"


def test_an_input_is_copied_when_it_cannot_be_linked(tmp_path):
    source = Path("/proc/self/cmdline")  # another file system: hard links are refused
    job = tmp_path / "job"
    job.mkdir()
    copy = place_input(source, job, "cmdline")
    assert copy.read_bytes()
    assert copy.stat().st_nlink == 1


async def test_a_timed_out_job_leaves_no_tool_running(tmp_path):
    workers = pool(tmp_path, timeout=2)
    async with workers:
        await workers.run_sync(workfns.add, 1, 1)  # the worker is up: the limit is the job's
        with pytest.raises(JobTimeout):
            await workers.run_sync(workfns.hang_in_tool, tool_seconds(0))
        assert processes_with(f"sleep {tool_seconds(0)} ") == []


async def test_children_a_tool_leaves_are_ended_when_it_returns(tmp_path):
    marker = tmp_path / "grandchild.pid"
    workers = pool(tmp_path)
    async with workers:
        await workers.run_sync(workfns.grandchild_in_tool, str(marker), tool_seconds(1))
        pid = int(marker.read_text())
        with trio.fail_after(5):
            while alive(pid):
                await trio.sleep(0.05)
        assert processes_with(f"sleep {tool_seconds(1)} ") == []


async def test_tools_die_with_a_worker_that_is_killed(tmp_path):
    workers = pool(tmp_path)
    async with workers:
        async with workers.open_job() as job:
            marker = job.path.parent / "pids"  # survives the job directory for the check
            with pytest.raises(ServiceUnavailable):
                await job.run(workfns.die_after_spawning, str(marker), tool_seconds(2), True)
        assert processes_with(f"sleep {tool_seconds(2)} ") == []
        pids = [int(p) for p in marker.read_text().split()]
        assert pids
        assert not any(alive(p) for p in pids)


async def test_processes_started_around_the_sandbox_are_ended_with_the_worker(tmp_path):
    """A library spawning a program without the tool options: the session sweep finds it."""
    workers = pool(tmp_path)
    async with workers:
        async with workers.open_job() as job:
            marker = job.path.parent / "pids"
            with pytest.raises(ServiceUnavailable):
                await job.run(workfns.die_after_spawning, str(marker), tool_seconds(3), False)
        assert processes_with(f"sleep {tool_seconds(3)} ") == []


async def test_a_job_over_the_memory_limit_answers_422_and_its_worker_is_replaced(tmp_path):
    limit = 512 << 20
    workers = pool(tmp_path, memory_limit=limit)
    async with workers:
        first = await workers.run_sync(workfns.pid)
        assert await workers.run_sync(workfns.data_limit) == limit
        with pytest.raises(JobTooComplex) as info:
            await workers.run_sync(workfns.allocate, 1024)
        assert info.value.status == 422
        assert info.value.detail == "File too complex to process."
        assert await workers.run_sync(workfns.allocate, 64) == 64 << 20
        assert await workers.run_sync(workfns.pid) != first
        assert workers.statistics()["too_complex"] == 1


async def test_a_worker_that_grew_is_recycled(tmp_path):
    workers = pool(tmp_path, recycle_rss=256 << 20)
    async with workers:
        first = await workers.run_sync(workfns.pid)
        assert await workers.run_sync(workfns.pid) == first  # small: kept
        await workers.run_sync(workfns.grow, 300)
        assert await workers.run_sync(workfns.pid) != first


def test_start_up_removes_what_dead_instances_left(tmp_path):
    gone = tmp_path / "i999999999-abc"  # beyond pid_max: no such process
    (gone / "jdeadbeef").mkdir(parents=True)
    (gone / "jdeadbeef" / "upload.svg").write_text("<svg/>")
    living = tmp_path / f"i{os.getppid()}-xyz"  # another instance that is still running
    living.mkdir()
    root = JobRoot(tmp_path)
    root.start()
    try:
        assert not gone.exists()
        assert living.exists()
    finally:
        root.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == [living.name]


def test_workers_and_their_tools_die_with_the_web_process(tmp_path):
    """SIGKILL the supervisor while a job runs a tool: the worker and the tool end too."""
    marker = tmp_path / "pids"
    script = textwrap.dedent(f"""
        from pathlib import Path

        import trio
        from kernel.workers_parallel import TrioParallelWorkers
        from tests import workfns

        async def main():
            workers = TrioParallelWorkers(max_workers=1, max_queue=1, timeout=600,
                                          work_path=Path({str(tmp_path / "work")!r}))
            async with workers:
                await workers.run_sync(workfns.spawn_and_wait, {str(marker)!r}, {tool_seconds(4)!r})

        if __name__ == "__main__":
            trio.run(main)
    """)
    (tmp_path / "server.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, str(tmp_path / "server.py")], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        worker, tool = (int(p) for p in marker.read_text().split())
        assert alive(worker)
        assert alive(tool)
        server.send_signal(signal.SIGKILL)
        server.wait()
        deadline = time.monotonic() + 10
        while (alive(worker) or alive(tool)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(worker)
        assert not alive(tool)
        assert processes_with(f"sleep {tool_seconds(4)} ") == []
    finally:
        server.kill()
        server.wait()
