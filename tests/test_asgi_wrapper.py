"""The ``asgi_wrapper`` hook: plugins wrap the app's ASGI callable, in plugin-list order."""

from __future__ import annotations

from typing import Any

import httpx

from kernel import hookimpl
from tests.conftest import serve_live


def tagging_wrapper(tag: str) -> Any:
    """Middleware that appends ``tag`` to an ``x-wrapped`` response header."""

    def wrap(inner: Any) -> Any:
        async def app(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return

            async def tagged_send(message: dict) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    existing = [v for k, v in headers if k == b"x-wrapped"]
                    headers = [(k, v) for k, v in headers if k != b"x-wrapped"]
                    value = (existing[0] + b"," if existing else b"") + tag.encode()
                    message = {**message, "headers": [*headers, (b"x-wrapped", value)]}
                await send(message)

            await inner(scope, receive, tagged_send)

        return app

    return wrap


class ZeroArgs:
    """A hookimpl that takes none of the spec's arguments (pluggy allows fewer)."""

    @staticmethod
    @hookimpl
    def asgi_wrapper() -> Any:
        return tagging_wrapper("outer")


class WithArgs:
    seen: dict[str, Any] = {}

    @classmethod
    def make(cls) -> Any:
        class Impl:
            @staticmethod
            @hookimpl
            def asgi_wrapper(app: Any, settings: Any) -> Any:
                cls.seen.update(app=app, settings=settings)
                return tagging_wrapper("inner")

        return Impl()


class Declines:
    @staticmethod
    @hookimpl
    def asgi_wrapper() -> None:
        return None


async def test_hook_asgi_wrapper_zero_argument_impl_wraps_live_and_in_process(make_app):
    inner = WithArgs.make()
    app = make_app(kernel={"plugins": ["outer", "explain", "inner", "none"]},
                   plugins={"outer": ZeroArgs(), "inner": inner, "none": Declines()})
    assert WithArgs.seen["app"] is app
    assert WithArgs.seen["settings"].kernel.plugins == ("outer", "explain", "inner", "none")
    # in-process: the test client calls the app object, which dispatches through the wrappers
    async with app.test_app() as test_app:
        r = await test_app.test_client().get("/api/v1/explain/AAA4RJYGHHVRCZ5T")
        assert r.status_code == 200
        # the inner wrapper tags first, the outer one (listed first) last
        assert r.headers["x-wrapped"] == "inner,outer"
    # a real server: hypercorn drives lifespan and http through the same chain
    app = make_app(kernel={"plugins": ["outer", "explain"]}, plugins={"outer": ZeroArgs()})
    async with serve_live(app) as url, httpx.AsyncClient(base_url=url) as http:
        r = await http.get("/api/v1/nope")
        assert r.status_code == 404
        assert r.headers["x-wrapped"] == "outer"
        assert r.headers["content-type"] == "application/problem+json"


async def test_without_wrappers_the_app_is_untouched(make_app):
    app = make_app(kernel={"plugins": ["explain"]})
    assert "asgi_app" not in vars(app)
