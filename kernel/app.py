"""``create_app``: settings, plugins and backends wired into one Quart-Trio app."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from inspect import CO_COROUTINE
from pathlib import Path
from types import FunctionType
from typing import Any

from quart import Response, request
from quart_trio import QuartTrio
from werkzeug.routing import BaseConverter

from kernel.asgi import BackpressureHTTPConnection, StreamingRequest, ambiguous_framing
from kernel.compress import install_compression
from kernel.config import ConfigError, Settings
from kernel.config_load import load_kernel_settings, load_plugin_settings, load_raw_config
from kernel.context import EXTENSION, Runtime, current_actor
from kernel.cors import install_cors
from kernel.errors import BadRequest, HttpError, install_error_handlers
from kernel.headers import install_security_headers
from kernel.jobs import JobBoard
from kernel.observe import CountedStorage, Counters, note_route
from kernel.openapi import merge_fragments
from kernel.plugins import PluginHost, create_plugin_host
from kernel.privacy import OWNER_KEY_NAME, key_from_setting, log_prefix
from kernel.quota import Ledger, Limits, QuotaStorage, RateLimiter
from kernel.storage import MEDIA_ID
from kernel.workers import worker_count

access_log = logging.getLogger("iscc_web.access")


class MediaIdConverter(BaseConverter):
    """``<mid:media_id>``: 13 characters of lowercase base32hex; anything else is a 404."""

    regex = MEDIA_ID.pattern


class IsccWebApp(QuartTrio):
    """QuartTrio with request bodies that apply backpressure."""

    asgi_http_class = BackpressureHTTPConnection
    request_class = StreamingRequest

    def ensure_async(self, func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        """Quart's, with a fast path for a plain ``async def`` function.

        Quart calls this for every hook and view of every request, and its
        ``iscoroutinefunction`` (asyncio's, then inspect's: unwrapping, flag lookups) cost
        about as much as a hook itself. A plain function with the coroutine flag is what
        that check answers yes for; everything else takes Quart's path.
        """
        if type(func) is FunctionType and func.__code__.co_flags & CO_COROUTINE:
            return func  # type: ignore[no-any-return]
        return super().ensure_async(func)


def _pick(factories: Mapping[str, Callable[..., Any]], name: str, what: str) -> Callable[..., Any]:
    if name not in factories:
        raise ConfigError(
            f"[kernel] {what}: unknown backend {name!r}; available: {', '.join(sorted(factories))}"
        )
    return factories[name]


def _mount_blueprints(app: QuartTrio, host: PluginHost, settings: Settings) -> None:
    owners: dict[str, str] = {}
    for plugin_name, blueprint in host.register_blueprints(settings=settings):
        if blueprint.name in owners:
            raise ConfigError(
                f"plugins {owners[blueprint.name]!r} and {plugin_name!r} both register "
                f"a blueprint named {blueprint.name!r}"
            )
        owners[blueprint.name] = plugin_name
        app.register_blueprint(blueprint)
    claimed: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        owner = owners.get(rule.endpoint.rpartition(".")[0], "kernel")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            key = (method, rule.rule)
            if key in claimed and claimed[key] != owner:
                raise ConfigError(
                    f"plugins {claimed[key]!r} and {owner!r} both serve {method} {rule.rule}"
                )
            claimed[key] = owner
        _check_package_rule(app, rule.rule, rule.endpoint, owner)


def _check_package_rule(app: QuartTrio, path: str, endpoint: str, owner: str) -> None:
    """Every route naming a package goes through the kernel's access rule (``package_route``)."""
    if "<mid:" in path and not hasattr(app.view_functions.get(endpoint), "package_action"):
        raise ConfigError(
            f"plugin {owner!r}: route {path} names a package but its view is not decorated "
            "with kernel.package_route(action), which applies the access rule"
        )


def _install_access_log(app: QuartTrio, runtime: Runtime) -> None:
    @app.after_request
    async def observed(response: Response) -> Response:
        """The route for observers (kernel.observe), then the access log line."""
        req: Any = request._get_current_object()  # type: ignore[attr-defined]
        note_route(req.scope, req.url_rule)
        if not access_log.isEnabledFor(logging.INFO):  # nor DEBUG then: no line at all
            return response
        view = app.view_functions.get(req.endpoint or "")
        level = logging.DEBUG if getattr(view, "quiet_access_log", False) else logging.INFO
        if access_log.isEnabledFor(level):
            actor = log_prefix(current_actor()) if runtime.secrets.loaded else "-"
            access_log.log(
                level, "%s %s %s actor=%s", req.method, req.path, response.status_code, actor,
            )
        return response


async def _load_owner_key(runtime: Runtime) -> None:
    """The key of owner identities: from the setting, else the storage backend's secret."""
    setting = runtime.settings.kernel.owner_key
    key = key_from_setting(setting) if setting else await runtime.storage.shared_secret(
        OWNER_KEY_NAME)
    runtime.secrets.owner_key = key
    runtime.secrets.retry = False


def create_app(
    config: str | Path | Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    plugins: Mapping[str, object] | None = None,
) -> IsccWebApp:
    """Create one app instance.

    Args:
        config: path to a plugins.toml, a parsed mapping of the same shape, or ``None``
            (``ISCC_WEB_CONFIG``, then ``./plugins.toml``, then embedded defaults).
        env: environment for ``ISCC_WEB_*`` overrides (default: ``os.environ``, read now).
        plugins: extra plugins by name, registered exactly like entry points.

    Raises:
        ConfigError: any invalid setting, unknown plugin, hook or route clash (one line).
    """
    env = dict(os.environ) if env is None else env
    raw, source, base_dir = load_raw_config(config, env)
    kernel = load_kernel_settings(raw, env, source, base_dir)
    host = create_plugin_host(kernel.plugins, plugins)
    plugin_settings = load_plugin_settings(raw, env, source, host.register_settings(), host.known)
    settings = Settings(kernel=kernel, plugin=plugin_settings, source=source)
    storage = _pick(host.register_storage(), kernel.storage, "storage")(settings)
    metered = QuotaStorage(storage, Ledger(Limits.of(kernel)))
    workers = _pick(host.register_workers(), kernel.workers, "workers")(
        settings, host.worker_init(settings=settings)
    )

    app = IsccWebApp("iscc_web")
    app.config.update(
        MAX_CONTENT_LENGTH=None,  # limits are counted by kernel.bodies, chunked bodies included
        RESPONSE_TIMEOUT=None,  # a timeout would silently truncate long downloads
        BODY_TIMEOUT=kernel.body_timeout,
        BACKGROUND_TASK_SHUTDOWN_TIMEOUT=5,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["mid"] = MediaIdConverter
    counters = Counters()
    counted = CountedStorage(metered, counters)
    runtime = Runtime(
        settings=settings, host=host, storage=storage, workers=workers,
        openapi=merge_fragments(host.openapi_spec(settings=settings)),
        counters=counters, counted_storage=counted,
        quota=metered, rate_limiter=RateLimiter(kernel.owner_rate_limit),
        jobs=JobBoard(counted, concurrency=worker_count(settings), max_queue=kernel.max_queue,
                      lease=kernel.job_lease, progress_delay=kernel.job_poll_interval),
    )
    app.extensions[EXTENSION] = runtime
    install_error_handlers(app)
    install_compression(app)  # first registered: runs after every other after_request
    install_cors(app, kernel.cors_origins, kernel.site_address)
    install_security_headers(app)
    _mount_blueprints(app, host, settings)
    _install_access_log(app, runtime)
    for wrap in host.asgi_wrapper(app=app, settings=settings):
        app.asgi_app = wrap(app.asgi_app)  # type: ignore[method-assign]

    @app.before_request
    async def request_checks() -> None:
        """Framing is unambiguous and the owner key is loaded (one hook: each costs a call)."""
        if ambiguous_framing(request.header_names):  # type: ignore[attr-defined]
            raise BadRequest("Content-Length and Transfer-Encoding must not both be sent.",
                             headers={"Connection": "close"})
        if runtime.secrets.retry:  # serving started while the store was unreachable
            await _load_owner_key(runtime)

    @app.while_serving  # type: ignore[type-var]
    async def serving() -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:  # left in reverse: lifespans, workers, storage
            await stack.enter_async_context(storage)
            await metered.count_existing()
            try:
                await _load_owner_key(runtime)
            except HttpError:  # the store is not reachable yet: the next request retries
                runtime.secrets.retry = True
                logging.getLogger("iscc_web").warning("owner key not loaded yet; retrying later")
            await stack.enter_async_context(workers)
            if kernel.warm_workers:
                await workers.warm()
            runtime.jobs.start(app.nursery)  # type: ignore[attr-defined]
            stack.push_async_callback(runtime.jobs.stop)  # jobs end before the pool closes
            for lifespan in host.lifespan(app=app):
                await stack.enter_async_context(lifespan)
            yield

    return app
