"""The per-app runtime and the accessors route code uses to reach it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from quart import Quart, current_app, has_request_context, request

from kernel.errors import Forbidden
from kernel.observe import SCOPE_LABELS, Counters, record_job

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from kernel.config import Settings
    from kernel.jobs import JobBoard
    from kernel.plugins import PluginHost
    from kernel.storage import Storage, UploadMeta
    from kernel.workers import Job, Workers

T = TypeVar("T")

API_PREFIX = "/api/v1"
#: Scope key: the request has spent its rate-limit token.
_RATED = "iscc_web.rated"
EXTENSION = "iscc_web"


@attrs.define
class Secrets:
    """Secrets resolved when serving starts (the storage backend may hold them)."""

    _owner_key: bytes = b""
    #: Loading failed when serving started (store unreachable): each request tries again.
    retry: bool = False

    @property
    def loaded(self) -> bool:
        return bool(self._owner_key)

    @property
    def owner_key(self) -> bytes:
        if not self._owner_key:
            raise RuntimeError("the owner key is loaded when serving starts (use app.test_app())")
        return self._owner_key

    @owner_key.setter
    def owner_key(self, value: bytes) -> None:
        self._owner_key = value


@attrs.frozen
class Runtime:
    """Everything one app instance owns: its frozen settings, plugins and backends."""

    settings: Settings
    host: PluginHost
    storage: Storage
    workers: Workers
    openapi: dict[str, Any]
    #: What the kernel counts (storage operations, sweeps) for observers.
    counters: Counters
    #: ``storage`` as plugins see it: every operation counted in ``counters``.
    counted_storage: Any
    #: Asynchronous jobs of this instance (state in storage, any instance reads it).
    jobs: JobBoard
    secrets: Secrets = attrs.field(factory=Secrets)
    #: The storage quotas (:class:`kernel.quota.QuotaStorage`, inside ``counted_storage``).
    quota: Any = None
    #: Processing requests per client and minute (``owner_rate_limit``).
    rate_limiter: Any = None


def runtime_of(app: Quart) -> Runtime:
    return app.extensions[EXTENSION]


def runtime() -> Runtime:
    """The runtime of the app handling the current request (or app context)."""
    return runtime_of(current_app)


def get_settings() -> Settings:
    return runtime().settings


def plugin_settings(section: str) -> Any:
    """The frozen settings a plugin declared for ``[plugin.<section>]``."""
    return runtime().settings.of(section)


def get_storage() -> Storage:
    """The app's storage backend (each operation is counted for observers)."""
    return runtime().counted_storage  # type: ignore[no-any-return]


def get_workers() -> Workers:
    return runtime().workers


async def _observed(run: Callable[..., Awaitable[T]], fn: Callable[..., T], *args: Any) -> T:
    """Run a job; within a request, note its name, duration and outcome for observers."""
    scope: Any = request.scope if has_request_context() else None
    rt = runtime()
    if scope is not None and rt.rate_limiter is not None and not scope.get(_RATED):
        scope[_RATED] = True  # one token per request, however many jobs it runs
        rt.rate_limiter.take(current_actor())
    started = time.perf_counter()
    try:
        result = await run(fn, *args)
    except BaseException as exc:
        record_job(scope, getattr(fn, "__name__", "job"), started, exc)
        raise
    record_job(scope, getattr(fn, "__name__", "job"), started, None)
    return result


async def run_sync(fn: Callable[..., T], *args: Any) -> T:
    """Run a plain function in the worker pool, in a job of its own (see :class:`Workers`).

    Within a request, the job's name, duration and outcome are noted for observers.
    """
    return await _observed(runtime().workers.run_sync, fn, *args)


def label_request(**labels: str) -> None:
    """Attach labels (e.g. ``mode="image"``) to the current request for observers.

    Metrics and error reports read them after the response; keep values few and bounded.
    """
    scope: Any = request.scope
    scope.setdefault(SCOPE_LABELS, {}).update(labels)


def quiet_route(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose requests are access-logged at DEBUG only (probes, scrapes)."""
    view.quiet_access_log = True  # type: ignore[attr-defined]
    return view


@asynccontextmanager
async def open_job() -> AsyncIterator[Job]:
    """A private job directory for worker functions that need files (see :class:`Job`)::

        async with get_storage().local_file(meta) as stored, open_job() as job:
            path = await job.add_input(stored)
            result = await job.run(work_fn, str(path))

    Its jobs are observed like :func:`run_sync`'s.
    """
    from kernel.workers import Job

    async with runtime().workers.open_job() as job:
        yield Job(job.path, lambda _path, fn, *args: _observed(job.run, fn, *args))


def current_actor() -> str:
    """The identity of the requester (keyed blake3 of the client address by default)."""
    actor = getattr(request, "_iscc_web_actor", None)
    if actor is None:
        rt = runtime()
        actor = rt.host.actor_from_request(request=request, settings=rt.settings)
        request._iscc_web_actor = actor  # type: ignore[attr-defined]
    return actor


def require_access(meta: UploadMeta, action: str) -> None:
    """Raise 403 unless the requester may ``action`` the package ``meta`` describes."""
    rt = runtime()
    allowed = rt.host.media_access(
        actor=current_actor(), meta=meta, action=action, settings=rt.settings
    )
    if not allowed:
        raise Forbidden()


async def open_package(media_id: str, action: str) -> UploadMeta:
    """Load a package's record and apply the access rule for ``action`` (404, 403)."""
    meta = await get_storage().load_meta(media_id)
    require_access(meta, action)
    return meta


def media_location(media_id: str) -> str:
    """Root-relative URL of a stored file (the ``Location`` header)."""
    return f"{API_PREFIX}/media/{media_id}"


def media_url(media_id: str) -> str:
    """Absolute URL of a stored file, from ``site_address`` (never the client's Host header)."""
    return runtime().settings.kernel.site_address.rstrip("/") + media_location(media_id)
