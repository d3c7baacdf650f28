"""Plugin loading: one PluginManager per app, built-ins and entry points on the same path."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import inspect
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import pluggy
from quart import Blueprint, Quart, Request

from kernel import hookspecs
from kernel.config import ConfigError, Settings, SettingsSpec
from kernel.storage import Storage, UploadMeta
from kernel.workers import Workers

ENTRY_POINT_GROUP = "iscc_web.plugins"
BUILTIN_PACKAGE = "plugins"
#: Kernel modules that implement hooks themselves; they cannot be disabled.
ESSENTIAL = (
    "kernel.storage_fs",
    "kernel.workers_parallel",
    "kernel.privacy",
    "kernel.sweeper",
    "kernel.status",
    "kernel.probes",
    "kernel.jobs_http",
)


def builtin_names() -> list[str]:
    """Endpoint groups shipped in ``plugins`` (``_name`` packages are shared libraries)."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    return sorted(
        m.name for m in pkgutil.iter_modules(package.__path__)
        if m.ispkg and not m.name.startswith("_")
    )


def _identity(plugin: object) -> object:
    return plugin


def _discover(extra: Mapping[str, object]) -> dict[str, Callable[[], object]]:
    loaders: dict[str, Callable[[], object]] = {
        name: functools.partial(importlib.import_module, f"{BUILTIN_PACKAGE}.{name}")
        for name in builtin_names()
    }
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in loaders:
            raise ConfigError(f"plugin name {ep.name!r} is provided twice (entry point {ep.value})")
        loaders[ep.name] = ep.load
    for name, plugin in extra.items():
        if name in loaders:
            raise ConfigError(f"plugin name {name!r} is provided twice")
        loaders[name] = functools.partial(_identity, plugin)
    return loaders


async def resolve(value: Any) -> Any:
    """Await a hook result if it is awaitable (pluggy itself never awaits)."""
    if inspect.isawaitable(value):
        return await value
    return value


class PluginHost:
    """Typed facade over the PluginManager: one keyword-only method per hook, named after it.

    Every hook is called through pluggy (so implementations may take fewer arguments than the
    spec, and call order, wrappers and tracing are pluggy's), with ``host=self`` added.
    """

    def __init__(self, pm: pluggy.PluginManager, enabled: Sequence[str], known: set[str]):
        self.pm = pm
        self.enabled = tuple(enabled)
        self.known = known

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def register_settings(self) -> list[SettingsSpec]:
        return [spec for spec in self.hook.register_settings(host=self) if spec is not None]

    def register_storage(self) -> dict[str, Callable[[Settings], Storage]]:
        return self._merge_named("storage", self.hook.register_storage(host=self))

    def register_workers(self) -> dict[str, Callable[..., Workers]]:
        return self._merge_named("workers", self.hook.register_workers(host=self))

    def worker_init(self, *, settings: Settings) -> list[Callable[[], None]]:
        return [f for f in self.hook.worker_init(settings=settings, host=self) if f is not None]

    def register_blueprints(self, *, settings: Settings) -> list[tuple[str, Blueprint]]:
        """Each plugin's blueprints with the plugin's name, in registration order."""
        result: list[tuple[str, Blueprint]] = []
        for impl in self.hook.register_blueprints.get_hookimpls():
            others = [p for p in self.pm.get_plugins() if p is not impl.plugin]
            caller = self.pm.subset_hook_caller("register_blueprints", remove_plugins=others)
            for blueprints in caller(settings=settings, host=self):
                result.extend((impl.plugin_name, bp) for bp in blueprints or ())
        return result

    def openapi_spec(self, *, settings: Settings) -> list[Mapping[str, Any]]:
        return [f for f in self.hook.openapi_spec(settings=settings, host=self) if f]

    def asgi_wrapper(self, *, app: Quart, settings: Settings) -> list[Callable[[Any], Any]]:
        """Wrappers innermost first (pluggy calls the last-registered plugin first)."""
        return [w for w in self.hook.asgi_wrapper(app=app, settings=settings, host=self)
                if w is not None]

    def lifespan(self, *, app: Quart) -> list[AbstractAsyncContextManager[None]]:
        return [cm for cm in reversed(self.hook.lifespan(app=app, host=self)) if cm is not None]

    async def status_report(self, *, app: Quart, private: bool) -> dict[str, Any]:
        reports: dict[str, Any] = {}
        for report in reversed(self.hook.status_report(app=app, private=private, host=self)):
            report = await resolve(report)
            if report:
                reports.update(report)
        return reports

    def actor_from_request(self, *, request: Request, settings: Settings) -> str:
        return self.hook.actor_from_request(request=request, settings=settings, host=self)

    def media_access(self, *, actor: str, meta: UploadMeta, action: str,
                     settings: Settings) -> bool:
        return bool(self.hook.media_access(actor=actor, meta=meta, action=action,
                                           settings=settings, host=self))

    def describe(self) -> list[dict[str, Any]]:
        """Name, version and implemented hooks of each enabled plugin (kernel modules too)."""
        described = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or ())
            described.append({"name": name, "version": _version_of(plugin), "hooks": hooks})
        return described

    def _merge_named(self, what: str, results: list[Mapping[str, Any] | None]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for mapping in results:
            for key, factory in (mapping or {}).items():
                if key in merged:
                    raise ConfigError(f"two plugins offer the {what} backend {key!r}")
                merged[key] = factory
        return merged


def _version_of(plugin: object) -> str:
    version = getattr(plugin, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version("iscc-web-trio")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def create_plugin_host(enabled: Sequence[str] | None,
                       extra: Mapping[str, object] | None = None) -> PluginHost:
    """Build the PluginManager for one app.

    Args:
        enabled: group names from ``[kernel] plugins``; ``None`` means every built-in group.
        extra: plugins registered in code under a name, exactly as an entry point would be.

    Raises:
        ConfigError: an unknown group name, or a hookimpl that matches no hookspec.
    """
    loaders = _discover(extra or {})
    names = list(builtin_names()) if enabled is None else list(enabled)
    for name in names:
        if name not in loaders:
            raise ConfigError(
                f"[kernel] plugins: unknown plugin {name!r}; "
                f"available: {', '.join(sorted(loaders))}"
            )
    if len(set(names)) != len(names):
        raise ConfigError("[kernel] plugins: a plugin is listed twice")
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for module in ESSENTIAL:
        pm.register(importlib.import_module(module), name=module)
    for name in sorted(set(loaders) - set(names)):
        pm.set_blocked(name)
    for name in names:
        pm.register(loaders[name](), name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(f"plugin {pm.get_name(exc.plugin)!r}: {exc}") from None
    return PluginHost(pm, names, set(loaders))
