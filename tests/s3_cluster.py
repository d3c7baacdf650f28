"""Several real server instances on one S3 bucket behind a real nginx, all on 127.0.0.1.

Used by tests/test_multi_instance.py and bench/bench_s3.py. Each instance is a subprocess
(``python -m kernel --bind 127.0.0.1:PORT --config <toml>``); nginx runs the repository's
``deploy/nginx.conf`` with only its ports and addresses replaced (plus a response header that
names the instance which answered, for the tests).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.s3_fixtures import SeaweedFS, free_ports, s3_table, wait_http

ROOT = Path(__file__).resolve().parents[1]
NGINX_SITE = ROOT / "deploy" / "nginx.conf"
#: Response header the test nginx adds: the upstream address that served the request.
UPSTREAM_HEADER = "X-Upstream"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)


def toml_document(tables: dict[str, dict[str, Any]]) -> str:
    """A TOML document of flat tables (JSON scalars and arrays are valid TOML values)."""
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def render_site(listen: int, upstreams: Sequence[int]) -> str:
    """deploy/nginx.conf with test ports; fails loudly if the file's shape changed."""
    site = NGINX_SITE.read_text()
    servers = [line for line in site.splitlines() if line.strip().startswith("server 127.")]
    assert len(servers) == 2
    assert "listen 80;" in site
    assert "location / {" in site
    pool = "\n".join(servers[0].replace("127.0.0.1:8001", f"127.0.0.1:{port}")
                     for port in upstreams)
    site = site.replace(servers[0] + "\n" + servers[1], pool)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    return site.replace("location / {", "location / {\n"
                        f"        add_header {UPSTREAM_HEADER} $upstream_addr always;")


def nginx_main_conf(workdir: Path, site: Path) -> str:
    temp = "\n".join(f"    {kind}_temp_path {workdir / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\n"
            f"error_log {workdir / 'error.log'} warn;\nevents {{ worker_connections 512; }}\n"
            f"http {{\n    access_log off;\n{temp}\n    include {site};\n}}\n")


class Cluster:
    """Handles on the running parts: ``url`` (nginx) and ``instances`` (direct URLs)."""

    def __init__(self, url: str, instances: list[str], processes: list[subprocess.Popen],
                 prefix: str):
        self.url = url
        self.instances = instances
        self.processes = processes
        self.prefix = prefix

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes[:len(self.instances)]]


def _spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with open(log, "ab") as fh:
        return subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def running_cluster(store: SeaweedFS, workdir: Path, *, instances: int = 2,
                    kernel: dict[str, Any] | None = None, s3: dict[str, Any] | None = None,
                    nginx: bool = True) -> Iterator[Cluster]:
    """Start ``instances`` servers on one bucket prefix (and nginx in front); stop them after."""
    workdir.mkdir(parents=True, exist_ok=True)
    ports = free_ports(instances + 1)
    table = s3_table(store, workdir / "cache", **(s3 or {}))
    config = workdir / "plugins.toml"
    front = ports[-1] if nginx else ports[0]
    config.write_text(toml_document({
        "kernel": {"storage": "s3", "trusted_proxies": ["127.0.0.1"], "cleanup_interval": 0,
                   "site_address": f"http://127.0.0.1:{front}",
                   "log_level": "WARNING", "media_path": str(workdir / "unused-media"),
                   **(kernel or {})},
        "plugin.s3": table,
    }))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISCC_WEB_")}
    with ExitStack() as stack:
        processes = []
        for index, port in enumerate(ports[:instances]):
            process = _spawn([sys.executable, "-m", "kernel", "--bind", f"127.0.0.1:{port}",
                              "--config", str(config)], workdir / f"instance-{index}.log", env)
            stack.callback(_stop, process)
            processes.append(process)
        urls = [f"http://127.0.0.1:{port}" for port in ports[:instances]]
        for url in urls:
            wait_http(f"{url}/api/v1/-/status", timeout=60)
        url = urls[0]
        if nginx:
            binary = nginx_binary()
            if binary is None:
                raise RuntimeError("nginx not installed (apt-get install nginx)")
            site = workdir / "site.conf"
            site.write_text(render_site(ports[-1], ports[:instances]))
            main = workdir / "nginx.conf"
            main.write_text(nginx_main_conf(workdir, site))
            process = _spawn([binary, "-p", str(workdir), "-c", str(main),
                              "-e", str(workdir / "error.log")], workdir / "nginx.log")
            stack.callback(_stop, process)
            processes.append(process)
            url = f"http://127.0.0.1:{ports[-1]}"
            wait_http(f"{url}/api/v1/-/status", timeout=30)
        yield Cluster(url, urls, processes, table["prefix"])
