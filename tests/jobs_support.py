"""Reading job resources and their server-sent events over real HTTP (shared by job tests)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import trio


def parse_sse(lines: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Events (``id`` + the JSON ``data``) and comment lines of an event stream."""
    events: list[dict[str, Any]] = []
    comments: list[str] = []
    current: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            comments.append(line)
        elif not line:
            if "data" in current:
                events.append({"id": int(current["id"]), **json.loads(current["data"])})
            current = {}
        else:
            field, _, value = line.partition(":")
            current[field] = value.removeprefix(" ")
    return events, comments


async def read_events(http: httpx.AsyncClient, job_id: str,
                      headers: dict[str, str] | None = None
                      ) -> tuple[list[dict[str, Any]], list[str]]:
    """The whole event stream of a job, until the server ends it."""
    lines: list[str] = []
    with trio.fail_after(120):  # a bound for a hung stream, not a timing assertion
        async with http.stream("GET", f"/api/v1/jobs/{job_id}/events",
                               headers=headers or {}) as r:
            assert r.status_code == 200, await r.aread()
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-store"
            async for line in r.aiter_lines():
                lines.append(line)
    lines.append("")
    return parse_sse(lines)


async def poll_until(http: httpx.AsyncClient, job_id: str, statuses: set[str],
                     interval: float = 0.1) -> dict[str, Any]:
    """GET the job until its status is one of ``statuses``."""
    with trio.fail_after(120):
        while True:
            r = await http.get(f"/api/v1/jobs/{job_id}")
            assert r.status_code == 200, r.text
            body = r.json()
            if body["status"] in statuses:
                return body
            await trio.sleep(interval)
