"""What the kernel counts for observers (metrics, error reports): it keeps counts, never exports.

- :class:`Counters`: storage operations by outcome and sweeper runs, per app.
- :class:`CountedStorage`: the storage backend as plugins see it, counting every operation.
- Per request: the worker jobs it ran (name, seconds, outcome), the labels a route attached
  (:func:`label_request`) and an unexpected error (answered 500), all kept in the ASGI scope,
  so an ``asgi_wrapper`` reads them after the response without touching Quart.
"""

from __future__ import annotations

import collections
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
from werkzeug.exceptions import HTTPException

from kernel.errors import SCOPE_ERROR, NotFound

#: ASGI scope keys (a scope is a plain dict that every wrapper sees).
SCOPE_JOBS = "iscc_web.jobs"
SCOPE_LABELS = "iscc_web.labels"
SCOPE_ROUTE = "iscc_web.route"
#: The route of a request that matched none (a raw path is never an observable label).
UNMATCHED = "<unmatched>"

#: Storage methods that are counted (the Storage Protocol's operations).
_ASYNC_OPS = frozenset({"save_upload", "save_file", "load_meta", "file_size", "put_sidecar",
                        "get_sidecar", "delete", "sweep"})


@attrs.define
class Counters:
    """Monotonic counts of one app; read with :meth:`snapshot`."""

    storage: collections.Counter[tuple[str, str]] = attrs.field(factory=collections.Counter)
    sweeps: int = 0
    sweep_failures: int = 0
    swept: int = 0

    def count_storage(self, operation: str, error: BaseException | None) -> None:
        if error is None:
            outcome = "ok"
        elif isinstance(error, NotFound):
            outcome = "not_found"  # an unknown id is an answer, not a failing store
        elif isinstance(error, Exception):
            outcome = "error"
        else:
            return  # cancelled: the client left; nothing about the store
        self.storage[(operation, outcome)] += 1

    def snapshot(self) -> dict[str, Any]:
        """``storage``: {operation: {outcome: n}}, ``sweeper``: runs, failures, deleted."""
        storage: dict[str, dict[str, int]] = {}
        for (operation, outcome), n in sorted(self.storage.items()):
            storage.setdefault(operation, {})[outcome] = n
        return {
            "storage": storage,
            "sweeper": {"runs": self.sweeps, "failures": self.sweep_failures,
                        "deleted": self.swept},
        }


class CountedStorage:
    """A storage backend that counts each operation and its outcome in ``counters``."""

    def __init__(self, inner: Any, counters: Counters):
        self._inner = inner
        self._counters = counters

    @property
    def backend(self) -> Any:
        """The storage backend itself."""
        return self._inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in _ASYNC_OPS:
            return self._counted(name, attr)
        if name == "read_file":
            return self._counted_stream(attr)
        if name == "local_file":
            return self._counted_context(attr)
        return attr

    def _counted(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await method(*args, **kwargs)
            except BaseException as exc:
                self._counters.count_storage(name, exc)
                raise
            self._counters.count_storage(name, None)
            return result

        return call

    def _counted_stream(self, method: Callable[..., AsyncIterator[bytes]]) -> Callable[..., Any]:
        async def stream(*args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
            try:
                async for chunk in method(*args, **kwargs):
                    yield chunk
            except BaseException as exc:
                self._counters.count_storage("read_file", exc)
                raise
            self._counters.count_storage("read_file", None)

        return stream

    def _counted_context(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @asynccontextmanager
        async def context(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            entered = False
            try:
                async with method(*args, **kwargs) as path:
                    entered = True
                    self._counters.count_storage("local_file", None)
                    yield path
            except BaseException as exc:
                if not entered:
                    self._counters.count_storage("local_file", exc)
                raise

        return context


def note_route(scope: dict[str, Any], rule: Any) -> None:
    """Keep the rule routing matched for a request (``None``: none) in its scope, so that
    :func:`route_template` needs no second match (the app does this after every request)."""
    scope[SCOPE_ROUTE] = str(rule.rule) if rule is not None else UNMATCHED


def route_template(app: Any, scope: dict[str, Any]) -> str:
    """The rule serving an HTTP scope (``/api/v1/media/<mid:media_id>``), or ``<unmatched>``.

    After the app has answered, the rule its routing matched (:func:`note_route`); otherwise
    matched here, once per request (the result is kept in the scope for every other observer).
    """
    route = scope.get(SCOPE_ROUTE)
    if route is None:
        adapter = app.url_map.bind("localhost")
        try:
            rule, _ = adapter.match(scope["path"], method=scope["method"], return_rule=True)
            route = str(rule.rule)
        except HTTPException:  # not found, method not allowed, redirect
            route = UNMATCHED
        scope[SCOPE_ROUTE] = route
    return route  # type: ignore[no-any-return]


def record_job(scope: dict[str, Any] | None, name: str, started: float,
               error: BaseException | None) -> None:
    """Note one worker job of the current request in its scope (no request: nothing)."""
    if scope is None:
        return
    outcome = "ok" if error is None else type(error).__name__
    scope.setdefault(SCOPE_JOBS, []).append(
        {"job": name, "seconds": time.perf_counter() - started, "outcome": outcome}
    )


def request_jobs(scope: dict[str, Any]) -> list[dict[str, Any]]:
    """The worker jobs a request ran: ``job`` (function name), ``seconds``, ``outcome``."""
    return list(scope.get(SCOPE_JOBS, ()))


def request_error(scope: dict[str, Any]) -> BaseException | None:
    """The unexpected error a request ended with (answered 500), if any."""
    return scope.get(SCOPE_ERROR)


def request_labels(scope: dict[str, Any]) -> dict[str, str]:
    """The labels routes attached to a request with :func:`kernel.label_request`."""
    return dict(scope.get(SCOPE_LABELS, {}))
