"""A plugin whose jobs sleep in real workers, fail or record their worker's pid (kernel job tests).

Run as ``python -m tests.jobs_plugin MEDIA_PATH PORT LEASE`` it serves an app with this plugin
on 127.0.0.1:PORT, so a test can kill a whole instance while it runs a job.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from typing import Any

import trio
from quart import Blueprint, request

from kernel import (
    API_PREFIX,
    Progress,
    Settings,
    UnprocessableEntity,
    hookimpl,
    media_location,
    receive_upload,
    run_sync,
    run_upload_job,
)
from tests import workfns

blueprint = Blueprint("slow", __name__, url_prefix=API_PREFIX)


async def _work(mode: str, seconds: float, pid_file: str, progress: Progress) -> dict[str, Any]:
    await progress("napping")
    if mode == "fail":
        raise UnprocessableEntity("The test job failed.")
    if mode == "pid":
        await run_sync(workfns.nap_recording_pid, pid_file, seconds)
    else:
        await run_sync(workfns.nap, seconds)
    await progress("waking up")
    return {"slept": seconds}


@blueprint.post("/slow")
async def slow() -> Any:
    mode = request.args.get("mode", "nap")
    seconds = float(request.args.get("seconds", "0"))
    meta = await receive_upload()
    work = functools.partial(_work, mode, seconds, request.args.get("pid_file", ""))
    return await run_upload_job(meta, work, location=media_location(meta.media_id))


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    return [blueprint]


def main(media_path: str, port: str, lease: str) -> None:
    import tests.jobs_plugin as plugin
    from kernel import create_app
    from kernel.context import runtime_of
    from kernel.serve import hypercorn_config, serve_app

    app = create_app({"kernel": {"media_path": media_path, "cleanup_interval": 0,
                                 "max_workers": 1, "job_lease": float(lease),
                                 "log_level": "WARNING", "plugins": ["media", "slow"]}},
                     env={}, plugins={"slow": plugin})
    config = hypercorn_config(runtime_of(app).settings.kernel, f"127.0.0.1:{port}")
    trio.run(serve_app, app, config)


if __name__ == "__main__":
    main(*sys.argv[1:4])
