"""The ``similar`` group: add rate, query latency over HTTP next to iscc-search in-process,
index memory and recall@1 of the variant set, at several index sizes.

Usage: ``python -m bench similar [--sizes 10000,100000] [--queries 400] [--adds 60]``.

For each size N (a fresh embedded usearch index in a temp dir):

1. Bulk fill: N synthetic entries (3/4 images: random 256-bit Content-Image, Data and
   Instance units; 1/4 texts: Content-Text units and 8 random simprints) added in-process
   through iscc-search's ``UsearchIndexManager`` in batches of 1000 (assets/s).
2. The server (``python -m kernel``, groups media/iscc/similar, 1 worker) opens that index:
   RSS of the server before and after the index is loaded is the index's memory.
3. HTTP adds: ``--adds`` small generated images through ``POST /similar?add=true`` (ISCC
   processing, search, add), one client: assets/s.
4. Recall@1: the originals of the test suite (6 images, 4 texts) are added, then the 28
   variants (half size, re-compressed, greyscale, 5 % border; one paragraph changed) are
   queried with ``POST /similar``: share whose top match is their original.
5. Query latency: ``--queries`` ``POST /similar/query`` with the units of random entries
   (a few bits flipped), one client, sequential: p50/p99. Then the server stops and the same
   queries run in this process on the same index through ``UsearchIndexManager`` (p50/p99).
   Target: HTTP p50 <= 2 x in-process p50 + 2 ms.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.procs import ROOT, free_port, percentile, rss_kib

BATCH = 1000
INDEX = "similar"


def _unit(maintype: Any, subtype: Any, body: bytes) -> str:
    import iscc_core as ic

    header = ic.encode_header(maintype, subtype, ic.VS.V0, ic.encode_length(maintype, 256))
    return "ISCC:" + ic.encode_base32(header + body)


def synthetic_entry(rng: random.Random, text: bool) -> Any:
    import iscc_core as ic
    from iscc_search.models import IsccID
    from iscc_search.schema import IsccEntry

    content = _unit(ic.MT.CONTENT, ic.ST_CC.TEXT if text else ic.ST_CC.IMAGE, rng.randbytes(32))
    units = [content, _unit(ic.MT.DATA, ic.ST.NONE, rng.randbytes(32)),
             _unit(ic.MT.INSTANCE, ic.ST.NONE, rng.randbytes(32))]
    simprints = None
    if text:
        simprints = {"CONTENT_TEXT_V0": [
            {"simprint": ic.encode_base64(rng.randbytes(32)), "offset": i * 500, "size": 500}
            for i in range(8)]}
    return IsccEntry(iscc_id=str(IsccID.random()), units=units, simprints=simprints)


def bulk_fill(directory: Path, size: int, seed: int) -> tuple[float, list[list[str]]]:
    """Fill the index in-process; return assets/s and the units of every 100th entry."""
    from iscc_search.indexes.usearch import UsearchIndexManager
    from iscc_search.schema import IsccIndex

    from plugins.similar.index import open_embedded

    rng = random.Random(seed)
    manager: UsearchIndexManager = open_embedded(f"usearch://{directory.as_posix()}")
    manager.create_index(IsccIndex(name=INDEX))
    samples: list[list[str]] = []
    started = time.perf_counter()
    for start in range(0, size, BATCH):
        count = min(BATCH, size - start)
        batch = [synthetic_entry(rng, (start + i) % 4 == 0) for i in range(count)]
        samples.extend(e.units for e in batch[::100])
        manager.add_assets(INDEX, batch)
    elapsed = time.perf_counter() - started
    manager.close()
    return size / elapsed, samples


def flipped(units: list[str], rng: random.Random, bits: int = 6) -> list[str]:
    """The units with a few bits of the Content unit's body flipped (a near duplicate)."""
    import iscc_core as ic

    digest = bytearray(ic.decode_base32(units[0][5:]))
    for _ in range(bits):
        position = rng.randrange(16, len(digest) * 8)
        digest[position // 8] ^= 1 << (position % 8)
    return ["ISCC:" + ic.encode_base32(bytes(digest)), *units[1:]]


def write_config(workdir: Path, index_dir: Path) -> Path:
    config = workdir / "plugins.toml"
    config.write_text(
        "[kernel]\n"
        'plugins = ["media", "iscc", "similar"]\n'
        f'media_path = "{workdir / "media"}"\n'
        "max_workers = 1\nwarm_workers = true\ncleanup_interval = 0\n"
        'log_level = "WARNING"\n'
        "[plugin.similar]\n"
        f'index_uri = "usearch://{index_dir.as_posix()}"\n'
    )
    return config


def start_server(config: Path, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "kernel", "--config", str(config),
                             "--bind", f"127.0.0.1:{port}"], cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            # not /-/status: that opens the index, whose memory is measured after this
            probe = httpx.get(f"http://127.0.0.1:{port}/api/v1/media/0000000000000", timeout=2)
            if probe.status_code == 404:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start; see {log}")


def _headers(name: str) -> dict[str, str]:
    return {"X-Upload-Filename": base64.b64encode(name.encode()).decode()}


def small_image(rng: random.Random) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48))
    image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(64 * 48)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def http_adds(client: httpx.Client, count: int, rng: random.Random) -> float:
    images = [small_image(rng) for _ in range(count)]
    started = time.perf_counter()
    for i, data in enumerate(images):
        r = client.post("/api/v1/similar", params={"add": "true"}, content=data,
                        headers=_headers(f"bench-{i}.png"))
        r.raise_for_status()
    return count / (time.perf_counter() - started)


def recall_at_1(client: httpx.Client) -> tuple[int, int]:
    from tests.similar_fixtures import (
        image_variants,
        original_images,
        original_texts,
        text_variant,
    )

    ids: dict[str, str] = {}
    for name, data in original_images().items():
        r = client.post("/api/v1/similar", params={"add": "true"}, content=data,
                        headers=_headers(name))
        ids[r.json()["iscc_id"]] = name
    variants: list[tuple[str, bytes, str]] = []
    for name, data in original_images().items():
        variants += [(name, v, f"{k}.jpg") for k, v in image_variants(data).items()]
    for name, data in original_texts().items():
        r = client.post("/api/v1/similar", params={"add": "true"}, content=data,
                        headers=_headers(name))
        ids[r.json()["iscc_id"]] = name
        variants.append((name, text_variant(data), "changed.txt"))
    hits = 0
    for original, data, file_name in variants:
        matches = client.post("/api/v1/similar", content=data,
                              headers=_headers(file_name)).json()["matches"]
        hits += bool(matches) and ids.get(matches[0]["iscc_id"]) == original
    return hits, len(variants)


def http_queries(client: httpx.Client, queries: list[list[str]]) -> list[float]:
    client.post("/api/v1/similar/query", json={"units": queries[0]}).raise_for_status()
    latencies = []
    for units in queries:
        started = time.perf_counter()
        r = client.post("/api/v1/similar/query", json={"units": units})
        latencies.append(time.perf_counter() - started)
        r.raise_for_status()
    return latencies


def inprocess_queries(index_dir: Path, queries: list[list[str]]) -> tuple[list[float], int]:
    from iscc_search.schema import IsccQuery

    from plugins.similar.index import open_embedded

    before = _own_rss()
    manager = open_embedded(f"usearch://{index_dir.as_posix()}")
    manager.search_assets(INDEX, IsccQuery(units=queries[0]), 10)
    loaded = _own_rss() - before
    latencies = []
    for units in queries:
        started = time.perf_counter()
        manager.search_assets(INDEX, IsccQuery(units=units), 10)
        latencies.append(time.perf_counter() - started)
    manager.close()
    return latencies, loaded


def _own_rss() -> int:
    return rss_kib(os.getpid())


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-similar-{size}-"))
    index_dir = workdir / "index"
    try:
        rate, samples = bulk_fill(index_dir, size, seed=size)
        rng = random.Random(7)
        queries = [flipped(rng.choice(samples), rng) for _ in range(args.queries)]
        port = free_port()
        proc = start_server(write_config(workdir, index_dir), port, workdir / "server.log")
        try:
            # TCP_NODELAY: httpx writes a POST's head and body separately; without it Nagle
            # and delayed ACKs add ~40 ms to every request on loopback
            transport = httpx.HTTPTransport(socket_options=[
                (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                              transport=transport) as client:
                rss_before = rss_kib(proc.pid)
                client.get("/api/v1/index").raise_for_status()  # opens the index
                rss_index = rss_kib(proc.pid) - rss_before
                add_rate = http_adds(client, args.adds, rng)
                hits, total = recall_at_1(client)
                http = http_queries(client, queries)
        finally:
            proc.terminate()
            proc.wait(60)
        inproc, inproc_rss = inprocess_queries(index_dir, queries)
        return {"size": size, "bulk_rate": rate, "http_add_rate": add_rate,
                "rss_index_mib": rss_index / 1024, "rss_inproc_mib": inproc_rss / 1024,
                "recall": (hits, total), "http": http, "inproc": inproc,
                "load": os.getloadavg()[0]}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(figures: dict[str, Any]) -> None:
    ms = 1000
    http_p50, http_p99 = (percentile(figures["http"], p) * ms for p in (50, 99))
    in_p50, in_p99 = (percentile(figures["inproc"], p) * ms for p in (50, 99))
    hits, total = figures["recall"]
    target = 2 * in_p50 + 2
    print(f"--- {figures['size']:,} synthetic entries ---")
    print(f"bulk add in-process (batches of {BATCH}): {figures['bulk_rate']:,.0f} assets/s")
    print(f"add over HTTP (POST /similar?add=true, ISCC of a 64x48 PNG included): "
          f"{figures['http_add_rate']:.1f} assets/s")
    print(f"index RSS: server +{figures['rss_index_mib']:.0f} MiB when opened "
          f"(in-process +{figures['rss_inproc_mib']:.0f} MiB)")
    print(f"recall@1 of the variant set: {hits}/{total} = {hits / total:.3f} (target >= 0.95)")
    print(f"query POST /similar/query over HTTP: p50 {http_p50:.2f} ms, p99 {http_p99:.2f} ms")
    print(f"same query in-process (iscc-search): p50 {in_p50:.2f} ms, p99 {in_p99:.2f} ms")
    print(f"load average {figures['load']:.1f} on {os.cpu_count()} cores (a shared machine)")
    verdict = "met" if http_p50 <= target else "MISSED"
    print(f"target HTTP p50 <= 2 x in-process + 2 ms = {target:.2f} ms: {verdict}", flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench similar",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--adds", type=int, default=60)
    args = parser.parse_args(argv)
    for size in (int(s) for s in args.sizes.split(",")):
        report(run_size(size, args))


if __name__ == "__main__":
    main(sys.argv[1:])
