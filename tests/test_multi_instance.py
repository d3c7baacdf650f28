"""Two server instances on one S3 bucket (real SeaweedFS) behind a real nginx, on 127.0.0.1.

Whichever instance answers, every operation works on every package; the owner check holds
across instances and cannot be fooled by a client-sent ``X-Forwarded-For``. Clients use
distinct source addresses (127.0.0.2 and 127.0.0.3); nginx reaches the instances from
127.0.0.1, the only trusted proxy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import blake3
import httpx
import pytest

from kernel.plugins import builtin_names
from tests.conftest import upload_headers
from tests.s3_cluster import UPSTREAM_HEADER, Cluster, nginx_binary, running_cluster
from tests.s3_fixtures import SeaweedFS

ALICE, MALLORY = "127.0.0.2", "127.0.0.3"
PLUGINS = [name for name in ("media", "explain", "iscc", "metadata", "s3", "metrics")
           if name in builtin_names()]
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def cluster(seaweedfs: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if nginx_binary() is None:
        pytest.skip("nginx not installed: apt-get install nginx (scripts/setup.sh does)")
    kernel = {"plugins": PLUGINS, "max_workers": 1, "max_upload_size": 16 * MiB}
    with running_cluster(seaweedfs, tmp_path_factory.mktemp("cluster"), kernel=kernel) as c:
        yield c


def client(base_url: str, address: str) -> httpx.Client:
    """An HTTP client whose connections come from ``address``."""
    return httpx.Client(base_url=base_url, timeout=60,
                        transport=httpx.HTTPTransport(local_address=address))


def upload(http: httpx.Client, data: bytes = b"hello", name: str = "hello.txt") -> str:
    r = http.post("/api/v1/media", content=data, headers=upload_headers(name))
    assert r.status_code == 201, r.text
    return r.json()["media_id"]


def test_uploads_spread_over_both_instances(cluster: Cluster) -> None:
    served = set()
    with client(cluster.url, ALICE) as http:
        for index in range(6):
            r = http.post("/api/v1/media", content=b"x%d" % index, headers=upload_headers())
            assert r.status_code == 201
            served.add(r.headers[UPSTREAM_HEADER])
            assert r.json()["content"].startswith(cluster.url)  # site_address, never Host
    assert served == {url.removeprefix("http://") for url in cluster.instances}


def test_probes_through_nginx_and_metrics_only_per_instance(cluster: Cluster) -> None:
    with client(cluster.url, ALICE) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        r = http.get("/readyz")  # S3 storage: one HEAD of the bucket
        assert r.status_code == 200
        assert r.json()["storage"] == "ok"
        assert http.get("/metrics").status_code == 404  # nginx never exposes metrics
    for url in cluster.instances:
        with client(url, ALICE) as direct:
            assert "iscc_web_http_requests_total" in direct.get("/metrics").text


def test_any_instance_serves_any_package(cluster: Cluster) -> None:
    first, second = cluster.instances
    with client(first, ALICE) as a, client(second, ALICE) as b:
        media_id = upload(a, b"across instances")
        assert b.get(f"/api/v1/media/{media_id}").content == b"across instances"
        assert b.delete(f"/api/v1/media/{media_id}").status_code == 204
        assert a.get(f"/api/v1/media/{media_id}").status_code == 404
        assert a.delete(f"/api/v1/media/{media_id}").status_code == 404


def test_streamed_upload_through_nginx(cluster: Cluster) -> None:
    """12 MiB, chunked: streamed through nginx (no request buffering) in 5 MiB parts."""
    data = bytes(range(256)) * (12 * MiB // 256)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(data), 256 * 1024):
            yield data[start:start + 256 * 1024]

    with client(cluster.url, ALICE) as http:
        r = http.post("/api/v1/media", content=chunks(), headers=upload_headers("big.bin"))
        assert r.status_code == 201
        media_id = r.json()["media_id"]
        for _ in range(2):  # both instances, by round robin
            got = http.get(f"/api/v1/media/{media_id}")
            assert got.status_code == 200
            assert blake3.blake3(got.content).digest() == blake3.blake3(data).digest()
        too_big = http.post("/api/v1/media", content=iter([b"z" * MiB] * 17),
                            headers=upload_headers("too-big.bin"))
        assert too_big.status_code == 413  # the app's own answer, passed through nginx
        assert too_big.headers["content-type"] == "application/problem+json"


def test_forged_forwarded_for_cannot_download_anothers_file(cluster: Cluster) -> None:
    with client(cluster.url, ALICE) as alice, client(cluster.url, MALLORY) as mallory:
        media_id = upload(alice, b"alice's secret")
        forged = [{"X-Forwarded-For": ALICE}, {"X-Forwarded-For": f"{ALICE}, {ALICE}"},
                  {"X-Forwarded-For": f"{ALICE}, 127.0.0.1"}]
        answered = set()
        for headers in forged * 2:  # every forgery reaches both instances
            r = mallory.get(f"/api/v1/media/{media_id}", headers=headers)
            assert r.status_code == 403, headers
            answered.add(r.headers[UPSTREAM_HEADER])
            r = mallory.delete(f"/api/v1/media/{media_id}", headers=headers)
            assert r.status_code == 403, headers
            answered.add(r.headers[UPSTREAM_HEADER])
        assert len(answered) == 2
        for _ in range(2):
            assert alice.get(f"/api/v1/media/{media_id}").content == b"alice's secret"
    for direct in cluster.instances:  # bypassing nginx: an untrusted peer's header is ignored
        with client(direct, MALLORY) as mallory:
            r = mallory.get(f"/api/v1/media/{media_id}", headers={"X-Forwarded-For": ALICE})
            assert r.status_code == 403
        with client(direct, ALICE) as alice:
            assert alice.get(f"/api/v1/media/{media_id}").status_code == 200


@pytest.mark.skipif("iscc" not in PLUGINS or "metadata" not in PLUGINS,
                    reason="needs plugins/iscc and plugins/metadata")
def test_iscc_and_metadata_across_instances(cluster: Cluster) -> None:
    import iscc_samples

    image = (Path(iscc_samples.images()[0]).parents[1] / "image" / "demo.png").read_bytes()
    first, second = cluster.instances
    with client(first, ALICE) as a, client(second, ALICE) as b:
        r = a.post("/api/v1/iscc", content=image,
                   headers=upload_headers("demo.png", "image/png"))
        assert r.status_code == 201, r.text
        created = r.json()
        media_id = created["media_id"]
        # The worker read the staged copy: the data hash is that of the uploaded bytes.
        assert created["datahash"] == "1e20" + blake3.blake3(image).hexdigest()
        stored = b.get(f"/api/v1/iscc/{media_id}")
        assert stored.status_code == 200
        assert stored.json()["iscc"] == created["iscc"]
        assert b.get(f"/api/v1/metadata/{media_id}").status_code == 200
        r = b.post(f"/api/v1/metadata/{media_id}", json={"name": "Moved", "description": "B"})
        assert r.status_code == 201, r.text
        embedded = r.json()["media_id"]
        assert a.get(f"/api/v1/metadata/{embedded}").json()["name"] == "Moved"
        assert a.get(f"/api/v1/iscc/{embedded}").json()["iscc"] == r.json()["iscc"]
        assert a.get(f"/api/v1/media/{embedded}").status_code == 200
        assert a.delete(f"/api/v1/media/{embedded}").status_code == 204
        assert b.get(f"/api/v1/iscc/{embedded}").status_code == 404
    with client(cluster.url, MALLORY) as mallory:  # privacy holds for embedding, too
        r = mallory.post(f"/api/v1/metadata/{media_id}", json={"name": "x"},
                         headers={"X-Forwarded-For": ALICE})
        assert r.status_code == 403
