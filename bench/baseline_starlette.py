"""The reference: a bare Starlette app on uvicorn (httptools) streaming a body to a file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TARGET = Path(os.environ.get("BASELINE_DIR", "/tmp/baseline-uploads"))


async def upload(request: Request) -> JSONResponse:
    TARGET.mkdir(parents=True, exist_ok=True)
    path = TARGET / uuid.uuid4().hex
    size = 0
    with open(path, "wb") as fh:
        async for chunk in request.stream():
            fh.write(chunk)
            size += len(chunk)
    path.unlink()
    return JSONResponse({"size": size}, status_code=201)


async def ready(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/upload", upload, methods=["POST"]), Route("/ready", ready)])
