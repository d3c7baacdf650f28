"""The plugin-author API of the ISCC web service kernel.

Plugins import from here and nowhere else in the kernel::

    from kernel import hookimpl, NotFound, get_storage, receive_upload

The API is stated in two modules, each name once: :mod:`kernel.api_light` (settings types,
the hook marker, storage records; loaded now and light, so a plugin package can be imported
inside a worker process without the web stack) and :mod:`kernel.api_web` (app, errors,
request helpers; loaded on first use of one of its names).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from kernel import api_light
from kernel.api_light import *  # noqa: F403

if TYPE_CHECKING:
    from kernel.api_web import *  # noqa: F403


def _public(module: ModuleType) -> list[str]:
    return [name for name in vars(module) if not name.startswith("_")]


def _web() -> ModuleType:
    return importlib.import_module("kernel.api_web")


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return sorted([*_public(api_light), *_public(_web())])
    web = _web()
    if name.startswith("_") or name not in vars(web):
        raise AttributeError(f"module 'kernel' has no attribute {name!r}")
    value = getattr(web, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__getattr__("__all__")})
