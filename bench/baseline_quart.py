"""The framework's floor: a bare Quart-Trio app answering ``GET /hello`` on our hypercorn.

Run: ``python -m bench.baseline_quart --bind 127.0.0.1:PORT``. It is served exactly like the
kernel (``hypercorn.trio.serve`` in-process, the kernel's hypercorn config), so the difference
to an endpoint of ours is the cost of our code, not of the server.
"""

from __future__ import annotations

import argparse

import trio
from quart_trio import QuartTrio

from kernel.config import KernelSettings
from kernel.serve import hypercorn_config, serve_app

app = QuartTrio("baseline")


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True)
    args = parser.parse_args()
    trio.run(serve_app, app, hypercorn_config(KernelSettings(), args.bind))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
