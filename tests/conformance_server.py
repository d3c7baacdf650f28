"""A live server of the default deployment for the schemathesis runs (CI and the deep pass).

schemathesis is synchronous and drives real HTTP, so the server runs as its own process
(``python -m kernel``), exactly as deployed, on a free port of 127.0.0.1 and a temp directory.
``python -m tests.conformance_server --write-config PATH --media DIR`` writes its config.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.server_process import free_port, server_process

ROOT = Path(__file__).resolve().parent.parent
#: Small enough that generated bodies sometimes exceed it (413), large enough for real files.
MAX_UPLOAD_SIZE = 4096


#: Groups of the contract that the default plugins.toml leaves off (they need an extra);
#: conformance covers them too, so every operation of openapi.yaml is exercised.
OPTIONAL_GROUPS = ("similar",)


def conformance_groups() -> list[str]:
    """The groups of the default plugins.toml, plus ``docs`` (it serves the spec under test)
    and the optional groups of the contract."""
    with (ROOT / "plugins.toml").open("rb") as fh:
        groups = list(tomllib.load(fh)["kernel"]["plugins"])
    extra = [g for g in ("docs", *OPTIONAL_GROUPS) if g not in groups]
    return [*groups, *extra]


def config_text(media: Path) -> str:
    groups = ", ".join(f'"{g}"' for g in conformance_groups())
    return (
        "[kernel]\n"
        f"plugins = [{groups}]\n"
        f'media_path = "{media}"\n'
        "cleanup_interval = 0\n"
        "max_workers = 1\n"
        f"max_upload_size = {MAX_UPLOAD_SIZE}\n"
        "owner_quota_bytes = 0\n"  # thousands of uploads from one client; quotas: test_quota
        "process_timeout = 60.0\n"
        'log_level = "WARNING"\n'
        "[plugin.simprint]\n"
        f"max_text_chars = {MAX_UPLOAD_SIZE}\n"
        # Generated {"url": ...} bodies name arbitrary hosts: resolving them would send DNS
        # queries off this machine. URL intake is tested against local servers instead
        # (tests/test_url_intake.py); here a JSON body without a file name is a 400.
        "[plugin.iscc]\n"
        "url_intake = false\n"
    )


@contextmanager
def live_server(workdir: Path, *, ready_timeout: float = 60.0) -> Iterator[str]:
    """Run the default deployment on a free port; yield its base URL, then stop it (SIGTERM)."""
    config = workdir / "plugins.toml"
    config.write_text(config_text(workdir / "media"), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISCC_WEB_")}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "kernel", "--bind", f"127.0.0.1:{port}",
               "--config", str(config)]
    with server_process(command, ready_url=f"{url}/api/v1/-/status", name="server",
                        log_path=workdir / "server.log", cwd=ROOT, env=env,
                        timeout=ready_timeout):
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-config", required=True, type=Path)
    parser.add_argument("--media", required=True, type=Path)
    args = parser.parse_args()
    args.write_config.write_text(config_text(args.media), "utf-8")


if __name__ == "__main__":
    main()
