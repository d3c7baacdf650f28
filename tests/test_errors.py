"""Answered errors: problem+json, and no reference cycles left for the garbage collector."""

from __future__ import annotations

import gc
import types

import pytest


@pytest.mark.parametrize("path", ["/no/such/route", "/api/v1/explain/NOT-AN-ISCC"])
async def test_an_answered_error_leaves_no_frames_in_reference_cycles(make_app, path) -> None:
    app = make_app(kernel={"plugins": ["explain"]})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        r = await client.get(path)  # warm: first requests build caches
        assert r.status_code in (400, 404)
        assert r.headers["content-type"] == "application/problem+json"
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection frees is kept in gc.garbage
        try:
            for _ in range(5):
                r = await client.get(path)
                assert r.status_code in (400, 404)
            gc.collect()
            kept = [o for o in gc.garbage if isinstance(o, (types.FrameType, types.TracebackType))]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    # tracebacks of answered errors would hold the request's frames (and through them the
    # request, which holds its routing error) in cycles freed only by the collector
    assert kept == []
