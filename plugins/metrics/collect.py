"""The instruments of one app, in a registry of its own (never prometheus-client's global one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kernel import get_workers, runtime

PREFIX = "iscc_web"
#: Request latency buckets (seconds): explain answers in ms, uploads and jobs take minutes.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
JOB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

#: Worker statistics exposed as gauges (current values) and counters (since start).
WORKER_GAUGES = {
    "idle": "Worker processes waiting for a job.",
    "running": "Jobs running in a worker now.",
    "queued": "Jobs waiting for a free worker.",
    "max_workers": "Configured worker processes.",
    "max_queue": "Jobs allowed to wait before new ones get 503.",
}
WORKER_COUNTERS = {
    "completed": "Worker jobs that finished (result or a processing error).",
    "crashed": "Worker processes that died during a job.",
    "timed_out": "Worker jobs stopped at the time limit.",
    "rejected": "Jobs refused with 503 because the queue was full.",
}


class Metrics:
    """Request instruments (updated by the middleware) and the scrape-time collector."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            f"{PREFIX}_http_requests", "HTTP requests answered, by route template.",
            ["route", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer.",
            ["route", "method"], buckets=REQUEST_BUCKETS, registry=self.registry,
        )
        self.body_bytes = Counter(
            f"{PREFIX}_http_request_body_bytes", "Request body bytes received (uploads).",
            ["route", "method"], registry=self.registry,
        )
        self.jobs = Histogram(
            f"{PREFIX}_job_duration_seconds",
            "Worker jobs (queueing included) by job and media mode.",
            ["job", "mode", "outcome"], buckets=JOB_BUCKETS, registry=self.registry,
        )
        self.registry.register(RuntimeCollector())
        #: (route, method, status) -> its request counter and latency histogram: labels()
        #: validates and locks on every call; these few hundred children are looked up once.
        self._request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def request_instruments(self, route: str, method: str, status: str) -> tuple[Any, Any]:
        """The request counter and latency histogram children for one label set."""
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(route, method, status), self.latency.labels(route, method))
        return children


class RuntimeCollector:
    """Reads the worker pool, storage and sweeper counts when scraped (in the app's context)."""

    def describe(self) -> list[Metric]:
        return []  # no names to reserve; collect() needs an app context

    def collect(self) -> Iterator[Metric]:
        stats: dict[str, Any] = get_workers().statistics()
        for key, doc in WORKER_GAUGES.items():
            if isinstance(stats.get(key), int):
                yield GaugeMetricFamily(f"{PREFIX}_workers_{key}", doc, value=stats[key])
        for key, doc in WORKER_COUNTERS.items():
            if isinstance(stats.get(key), int):
                yield CounterMetricFamily(f"{PREFIX}_worker_jobs_{key}", doc, value=stats[key])
        counts = runtime().counters.snapshot()
        ops = CounterMetricFamily(f"{PREFIX}_storage_operations",
                                  "Storage operations by outcome (ok, not_found, error).",
                                  labels=["operation", "outcome"])
        for operation, outcomes in counts["storage"].items():
            for outcome, n in outcomes.items():
                ops.add_metric([operation, outcome], n)
        yield ops
        sweeper = counts["sweeper"]
        yield CounterMetricFamily(f"{PREFIX}_sweeper_runs", "Expiry sweeps started.",
                                  value=sweeper["runs"])
        yield CounterMetricFamily(f"{PREFIX}_sweeper_failures", "Expiry sweeps that failed.",
                                  value=sweeper["failures"])
        yield CounterMetricFamily(f"{PREFIX}_sweeper_deleted", "Packages the sweeper deleted.",
                                  value=sweeper["deleted"])
