"""``iscc-web`` / ``python -m kernel``: run the service."""

from __future__ import annotations

import argparse
import logging
import sys

import trio

from kernel.app import create_app
from kernel.config import ConfigError
from kernel.context import runtime_of
from kernel.serve import hypercorn_config, serve_app


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="iscc-web",
        description="ISCC generator service (Quart-Trio on hypercorn). Settings come from "
        "plugins.toml (or --config) and ISCC_WEB_* environment variables.",
    )
    parser.add_argument("--config", help="path to plugins.toml (default: ISCC_WEB_CONFIG, "
                        "then ./plugins.toml, then embedded defaults)")
    parser.add_argument("--bind", help="HOST:PORT to listen on (default: from "
                        "ISCC_WEB_SITE_ADDRESS, http://localhost:8000)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        app = create_app(args.config)
    except ConfigError as exc:
        print(f"iscc-web: configuration error: {exc}", file=sys.stderr)
        return 2
    kernel = runtime_of(app).settings.kernel
    logging.basicConfig(
        level=kernel.log_level.upper(),
        format="%(levelname)-8s %(asctime)s %(name)s: %(message)s",
    )
    config = hypercorn_config(kernel, args.bind)
    logging.getLogger("iscc_web").info("serving on http://%s", config.bind[0])
    trio.run(serve_app, app, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
