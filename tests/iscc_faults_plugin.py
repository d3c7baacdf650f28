"""A test-only plugin that injects faults into real worker processes.

Registered with ``create_app(..., plugins={"faults": module})``. Its worker initialiser runs
after the processing plugins' (``trylast``) and wraps ``iscc_sdk.code_iscc`` so that a file
named ``crash*`` kills the worker (SIGKILL) and ``sleep*`` blocks past any time limit.
It also serves ``GET /api/v1/-/faults/env`` with what a worker sees of its environment.
"""

from __future__ import annotations

import functools
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from quart import Blueprint

from kernel import API_PREFIX, Settings, hookimpl, run_sync

blueprint = Blueprint("faults", __name__, url_prefix=API_PREFIX)

ENV_NAMES = ("ISCC_SDK_BITS", "ISCC_SDK_FALLBACK", "ISCC_SDK_GRANULAR", "ISCC_SDK_ADD_UNITS",
             "ISCC_SDK_EXPERIMENTAL", "ISCC_SCT_BITS", "ISCC_SCI_BITS")


def _faulty(code_iscc: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(code_iscc)
    def wrapper(fp: Any, *args: Any, **kwargs: Any) -> Any:
        name = Path(fp).name
        if name.startswith("crash"):
            os.kill(os.getpid(), signal.SIGKILL)
        if name.startswith("sleep"):
            time.sleep(600)
        return code_iscc(fp, *args, **kwargs)

    return wrapper


def install_faults() -> None:
    import iscc_sdk

    if not getattr(iscc_sdk.code_iscc, "__wrapped__", None):
        iscc_sdk.code_iscc = _faulty(iscc_sdk.code_iscc)


def worker_view() -> dict[str, Any]:
    import iscc_sdk

    return {
        "env": {name: os.environ.get(name) for name in ENV_NAMES},
        "sdk_opts": {"bits": iscc_sdk.sdk_opts.bits, "granular": iscc_sdk.sdk_opts.granular,
                     "fallback": iscc_sdk.sdk_opts.fallback, "wide": iscc_sdk.sdk_opts.wide},
    }


@blueprint.get("/-/faults/env")
async def env_view() -> dict[str, Any]:
    return await run_sync(worker_view)


@hookimpl(trylast=True)
def worker_init(settings: Settings) -> Callable[[], None]:
    return install_faults


@hookimpl
def register_blueprints(settings: Settings) -> Sequence[Blueprint]:
    return [blueprint]
