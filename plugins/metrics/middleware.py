"""The ASGI wrapper that counts every HTTP request by its route template."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kernel import request_jobs, request_labels, route_template
from plugins.metrics.collect import Metrics

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def counting(app: Any, metrics: Metrics) -> Callable[[Any], Any]:
    """Middleware factory for the ``asgi_wrapper`` hook."""
    def wrap(inner: Any) -> Any:
        async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            started = time.perf_counter()
            status = "none"  # the client left before an answer started
            received = 0

            async def counting_receive() -> Any:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                return message

            async def watching_send(message: Any) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = str(message["status"])
                await send(message)

            try:
                await inner(scope, counting_receive, watching_send)
            finally:
                elapsed = time.perf_counter() - started
                method = scope["method"] if scope["method"] in METHODS else "other"
                route = route_template(app, scope)  # the app's own match, once it answered
                counter, latency = metrics.request_instruments(route, method, status)
                counter.inc()
                latency.observe(elapsed)
                if received:
                    metrics.body_bytes.labels(route, method).inc(received)
                jobs = request_jobs(scope)
                if jobs:
                    mode = request_labels(scope).get("mode", "none")
                    for job in jobs:
                        metrics.jobs.labels(job["job"], mode, job["outcome"]).observe(
                            job["seconds"])

        return counted

    return wrap
