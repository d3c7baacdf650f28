"""``GET /metrics``: real traffic through hypercorn, then a scrape parsed by prometheus-client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kernel import ConfigError
from kernel.context import runtime_of
from kernel.sweeper import sweep_once
from tests.conftest import serve_live, upload_headers

PLUGINS = ["metrics", "media", "explain", "iscc"]
MEDIA_ROUTE = "/api/v1/media/<mid:media_id>"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def test_scrape_after_real_traffic_counts_by_route_template(make_app):
    app = make_app(kernel={"plugins": PLUGINS})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url, timeout=60) as http:
        payload = b"metrics " * 1000
        r = await http.post("/api/v1/media", content=payload, headers=upload_headers())
        assert r.status_code == 201
        media_id = r.json()["media_id"]
        assert (await http.get(f"/api/v1/media/{media_id}")).status_code == 200
        assert (await http.get(f"/api/v1/media/{media_id}")).status_code == 200
        assert (await http.get("/api/v1/media/0000000000000")).status_code == 404
        assert (await http.get("/no/such/page/ISCC:KECXNDSZ")).status_code == 404
        r = await http.post("/api/v1/iscc", content=b"Hello metrics world.",
                            headers=upload_headers("hello.txt"))
        assert r.status_code == 201, r.text
        iscc_id = r.json()["media_id"]
        scrape = await http.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    # no raw path, media id or ISCC ever becomes a label value
    assert media_id not in text
    assert iscc_id not in text
    assert "ISCC:" not in text
    assert "/no/such" not in text
    found = samples(text)
    req = "iscc_web_http_requests_total"
    assert value(found, req, route=MEDIA_ROUTE, method="GET", status="200") == 2
    assert value(found, req, route=MEDIA_ROUTE, method="GET", status="404") == 1
    assert value(found, req, route="<unmatched>", method="GET", status="404") == 1
    assert value(found, req, route="/api/v1/media", method="POST", status="201") == 1
    assert value(found, "iscc_web_http_request_body_bytes_total", route="/api/v1/media",
                 method="POST") == len(payload)
    assert value(found, "iscc_web_http_request_duration_seconds_count", route=MEDIA_ROUTE,
                 method="GET") == 3  # two 200s and a 404
    # the worker job, labelled by the media mode the iscc group reported
    assert value(found, "iscc_web_job_duration_seconds_count", job="iscc_job", mode="text",
                 outcome="ok") == 1
    assert value(found, "iscc_web_worker_jobs_completed_total") == 1
    assert value(found, "iscc_web_worker_jobs_crashed_total") == 0
    assert value(found, "iscc_web_workers_max_workers") == 2
    assert ("iscc_web_workers_queued", ()) in found
    ops = "iscc_web_storage_operations_total"
    assert value(found, ops, operation="save_upload", outcome="ok") == 2
    assert value(found, ops, operation="load_meta", outcome="not_found") == 1
    assert value(found, ops, operation="read_file", outcome="ok") == 2
    # the scrape itself is counted from the next one on
    assert ("iscc_web_http_requests_total", (("method", "GET"), ("route", "/metrics"),
                                             ("status", "200"))) not in found


async def test_openmetrics_when_asked(make_app):
    app = make_app(kernel={"plugins": PLUGINS})
    async with app.test_app() as test_app:
        r = await test_app.test_client().get(
            "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"},
            scope_base={"client": ("127.0.0.1", 5000)})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/openmetrics-text")
        assert (await r.get_data(as_text=True)).rstrip().endswith("# EOF")


async def test_sweeper_runs_and_deletions(make_app):
    app = make_app(kernel={"plugins": PLUGINS, "storage_expiry": -1})  # all expired
    async with app.test_app() as test_app:
        client = test_app.test_client()
        r = await client.post("/api/v1/media", data=b"old", headers=upload_headers())
        assert r.status_code == 201
        assert await sweep_once(app) == 1
        assert await sweep_once(app) == 0
        r = await client.get("/metrics", scope_base={"client": ("127.0.0.1", 5000)})
        found = samples(await r.get_data(as_text=True))
    assert value(found, "iscc_web_sweeper_runs_total") == 2
    assert value(found, "iscc_web_sweeper_deleted_total") == 1
    assert value(found, "iscc_web_sweeper_failures_total") == 0
    assert value(found, "iscc_web_storage_operations_total", operation="sweep", outcome="ok") == 2


@pytest.mark.parametrize(("client", "networks", "proxies", "forwarded", "status"), [
    ("127.0.0.1", None, [], None, 200),
    ("10.1.2.3", None, [], None, 403),  # loopback only by default
    ("10.1.2.3", ["10.0.0.0/8"], [], None, 200),
    ("::ffff:10.1.2.3", ["10.0.0.0/8"], [], None, 200),
    ("192.168.1.1", ["10.0.0.0/8"], [], None, 403),
    # behind a trusted proxy the forwarded client counts, a forged header elsewhere does not
    ("127.0.0.1", ["10.0.0.0/8"], ["127.0.0.1"], "10.9.9.9", 200),
    ("127.0.0.1", ["10.0.0.0/8"], ["127.0.0.1"], "8.8.8.8", 403),
    ("192.168.1.1", ["10.0.0.0/8"], [], "10.9.9.9", 403),
])
async def test_networks_restrict_who_scrapes(make_app, client, networks, proxies, forwarded,
                                             status):
    plugin: dict[str, Any] = {"metrics": {"networks": networks}} if networks else {}
    app = make_app(kernel={"plugins": PLUGINS, "trusted_proxies": proxies}, plugin=plugin)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    async with app.test_app() as test_app:
        r = await test_app.test_client().get("/metrics", headers=headers,
                                             scope_base={"client": (client, 5000)})
        assert r.status_code == status
        if status == 403:
            assert r.headers["content-type"] == "application/problem+json"
            assert "iscc_web" not in await r.get_data(as_text=True)


async def test_switched_off_serves_nothing_and_counts_nothing(make_app):
    app = make_app(kernel={"plugins": PLUGINS}, env={"ISCC_WEB_METRICS_ENABLED": "false"})
    assert "metrics" not in app.extensions
    assert "asgi_app" not in vars(app)
    async with app.test_app() as test_app:
        r = await test_app.test_client().get("/metrics",
                                             scope_base={"client": ("127.0.0.1", 5000)})
        assert r.status_code == 404


def test_a_bad_network_stops_start_up(make_app):
    with pytest.raises(ConfigError, match=r"\[plugin.metrics\].*'not-a-net'"):
        make_app(kernel={"plugins": PLUGINS}, plugin={"metrics": {"networks": ["not-a-net"]}})
    with pytest.raises(ConfigError, match="ISCC_WEB_METRICS_NETWORKS|not-an-ip"):
        make_app(kernel={"plugins": PLUGINS}, env={"ISCC_WEB_METRICS_NETWORKS": "not-an-ip"})


def test_each_app_has_its_own_registry(make_app):
    a, b = make_app(kernel={"plugins": PLUGINS}), make_app(kernel={"plugins": PLUGINS})
    assert a.extensions["metrics"].registry is not b.extensions["metrics"].registry
    assert runtime_of(a).counters is not runtime_of(b).counters
