"""``iscc-web`` / ``python -m kernel``: run the service.

Only the standard library is imported at module level: worker processes are spawned, and
each one runs this module again as ``__mp_main__`` (or the ``iscc-web`` script that imports
it), which must not cost them the web stack.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


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
    parser.add_argument("--http-processes", type=int, metavar="N",
                        help="HTTP server processes on the one port, sharing max_workers "
                        "(default: [kernel] http_processes, 1)")
    # set by the supervisor for each of its HTTP processes (kernel/processes.py)
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import trio

    from kernel.app import create_app
    from kernel.config import ConfigError
    from kernel.context import runtime_of
    from kernel.processes import process_overrides, reuse_port_bind, supervise
    from kernel.serve import bind_from_site_address, hypercorn_config, serve_app

    args = parse_args(argv)
    env = dict(os.environ)
    if args.http_processes is not None:
        env["ISCC_WEB_HTTP_PROCESSES"] = str(args.http_processes)
    try:
        app = create_app(args.config, env=env)
        kernel = runtime_of(app).settings.kernel
        shares = (process_overrides(kernel, kernel.http_processes)
                  if kernel.http_processes > 1 else None)
    except ConfigError as exc:
        print(f"iscc-web: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=kernel.log_level.upper(),
        format="%(levelname)-8s %(asctime)s %(name)s: %(message)s",
    )
    bind = args.bind or bind_from_site_address(kernel.site_address)
    log = logging.getLogger("iscc_web")
    if shares:
        log.info("serving on http://%s with %d HTTP processes", bind, len(shares))
        server_args = ["--bind", bind, *(["--config", args.config] if args.config else [])]
        return supervise(server_args, shares)
    config = hypercorn_config(kernel, reuse_port_bind(bind) if args.reuse_port else bind)
    log.info("serving on http://%s", bind)
    trio.run(serve_app, app, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
