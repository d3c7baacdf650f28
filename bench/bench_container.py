"""Cold start of the container image to the first ISCC, next to the same server on the host.

Usage: ``python -m bench.bench_container [--rounds 3] [--workers 2]`` (needs podman).

The image is built (or found) with ``scripts/build-image.sh``. Each round starts a fresh
container (``--network host``, a fresh volume, warm workers, the same plugins and worker count
as ``bench iscc``) and POSTs the sample image to /api/v1/iscc until the first 201; the time from
``podman run`` to that answer is the container's cold start, split by the server's own log
lines (``podman logs --timestamps``) into: the container running (``podman run`` returned),
the app made (``serving on``: Python, the kernel and the plugins imported), the workers warm
(hypercorn's ``Running on``: each worker process has imported iscc-sdk) and the first job
done. The bare container start (``podman run --rm IMAGE`` of ``/bin/true``) and the host's
cold start (``python -m kernel``, the figure of ``bench iscc``) are measured in the same
rounds, so the machine's load shows as such. Medians are reported, with the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx

from bench.bench_iscc import HEADERS, IMAGE, start_and_first_201, write_config
from bench.procs import ROOT, free_port

RUN_OPTS = [
    *(["--runtime", "/usr/sbin/runc"] if os.path.exists("/usr/sbin/runc") else []),
    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "host",
    "--health-interval", "disable",
]


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], check=True, capture_output=True, text=True).stdout


#: Log lines that end a phase of the start, in order (kernel/__main__.py, hypercorn).
PHASES = {"app made": "iscc_web: serving on", "workers warm": "hypercorn.error: Running on"}


def log_times(name: str) -> dict[str, float]:
    """Wall-clock time of the first log line of each phase (podman stamps every line)."""
    found: dict[str, float] = {}
    logs = subprocess.run(["podman", "logs", "--timestamps", name], check=True,
                          capture_output=True, text=True)
    for line in (logs.stdout + logs.stderr).splitlines():  # the server logs to stderr
        stamp, _, text = line.partition(" ")
        for phase, marker in PHASES.items():
            if phase not in found and marker in text:
                # RFC 3339 with nanoseconds; fromisoformat takes microseconds
                day, _, clock = stamp.rstrip("Z").partition("T")
                whole, _, fraction = clock.partition(".")
                found[phase] = datetime.fromisoformat(
                    f"{day}T{whole}.{fraction[:6]:0<6}+00:00").timestamp()
    return found


def container_cold_start(image: str, workers: int) -> dict[str, float]:
    """Seconds from ``podman run`` to the end of each phase, the last one the first 201."""
    name = f"bench-iscc-web-{uuid.uuid4().hex[:12]}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/iscc"
    data = IMAGE.read_bytes()
    wall, start = time.time(), time.perf_counter()
    try:
        podman("run", "--detach", "--name", name, *RUN_OPTS, "--env", "HOST=127.0.0.1",
               "--env", f"PORT={port}", "--env", f"ISCC_WEB_MAX_WORKERS={workers}",
               "--env", "ISCC_WEB_PLUGINS=media,explain,iscc,metadata,simprint",
               "--env", "ISCC_WEB_LOG_LEVEL=INFO", image)
        phases = {"container running": time.perf_counter() - start}
        with httpx.Client(timeout=60) as client:
            while time.perf_counter() - start < 180:
                try:
                    if client.post(url, content=data, headers=HEADERS).status_code == 201:
                        first = time.perf_counter() - start
                        phases.update({phase: stamp - wall
                                       for phase, stamp in log_times(name).items()})
                        phases["first ISCC"] = first
                        return phases
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
        raise RuntimeError(f"container did not answer:\n{podman('logs', name)}")
    finally:
        subprocess.run(["podman", "rm", "--force", "--volumes", "--time", "0", name],
                       capture_output=True)


def bare_start(image: str) -> float:
    start = time.perf_counter()
    podman("run", "--rm", *RUN_OPTS, "--entrypoint", "/bin/true", image)
    return time.perf_counter() - start


def host_cold_start(workers: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-container-") as tmp:
        directory = Path(tmp)
        proc, cold = start_and_first_201(write_config(directory, workers), free_port(),
                                         directory / "server.log")
        proc.terminate()
        proc.wait(60)
        return cold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if shutil.which("podman") is None:
        print("container benchmark skipped: podman is not installed (scripts/setup.sh)")
        return 0
    built = subprocess.run(["bash", "scripts/build-image.sh"], cwd=ROOT, check=True,
                           capture_output=True, text=True)
    image = built.stdout.split()[-1]
    size = int(podman("image", "inspect", "--format", "{{.Size}}", image))
    cold: list[dict[str, float]] = []
    bare, host = [], []
    for _ in range(args.rounds):
        cold.append(container_cold_start(image, args.workers))
        bare.append(bare_start(image))
        host.append(host_cold_start(args.workers))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"container benchmark: {image}, {size / 1e6:.0f} MB, {args.workers} warm workers, "
          f"{args.rounds} rounds, {os.cpu_count()} CPUs, load average {load}")
    total = [phases["first ISCC"] for phases in cold]
    print(f"  cold start in the container (podman run -> first 201): "
          f"{statistics.median(total):.2f} s (rounds: {', '.join(f'{c:.2f}' for c in total)})")
    print("  of which, seconds after podman run (medians): " + ", ".join(
        f"{phase} {statistics.median(phases[phase] for phases in cold):.2f}"
        for phase in cold[0] if all(phase in phases for phases in cold)))
    print(f"  a bare container start (podman run --rm, /bin/true): "
          f"{statistics.median(bare):.2f} s")
    print(f"  the same server on the host (python -m kernel -> first 201): "
          f"{statistics.median(host):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
