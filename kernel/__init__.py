"""The plugin-author API of the ISCC web service kernel.

Plugins import from here and nowhere else in the kernel::

    from kernel import hookimpl, NotFound, get_storage, receive_upload

The hook marker, settings types and storage records load eagerly and light (no Quart), so a
plugin package can be imported inside a worker process without the web stack; everything
else (app, errors, request helpers) loads on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kernel.config import ConfigError, KernelSettings, Settings, SettingsSpec, parse_bool
from kernel.hookspecs import hookimpl
from kernel.openapi import contract, spec_fragment
from kernel.storage import Storage, UploadMeta, clean_file_name, new_media_id

if TYPE_CHECKING:
    from kernel.app import create_app
    from kernel.bodies import body_chunks, check_content_length, read_json
    from kernel.context import (
        API_PREFIX,
        current_actor,
        get_settings,
        get_storage,
        get_workers,
        media_location,
        media_url,
        plugin_settings,
        require_access,
        run_sync,
        runtime,
    )
    from kernel.errors import (
        BadRequest,
        Forbidden,
        HttpError,
        InsufficientStorage,
        JobTimeout,
        NotFound,
        PayloadTooLarge,
        RequestTimeout,
        ServiceUnavailable,
        UnprocessableEntity,
        problem_response,
    )
    from kernel.uploads import decode_file_name, receive_upload
    from kernel.workers import Workers

_LAZY = {
    "kernel.app": ["create_app"],
    "kernel.bodies": ["body_chunks", "check_content_length", "read_json"],
    "kernel.context": ["API_PREFIX", "current_actor", "get_settings", "get_storage",
                       "get_workers", "media_location", "media_url", "plugin_settings",
                       "require_access", "run_sync", "runtime"],
    "kernel.errors": ["BadRequest", "Forbidden", "HttpError", "InsufficientStorage",
                      "JobTimeout", "NotFound", "PayloadTooLarge", "RequestTimeout",
                      "ServiceUnavailable", "UnprocessableEntity", "problem_response"],
    "kernel.uploads": ["decode_file_name", "receive_upload"],
    "kernel.workers": ["Workers"],
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'kernel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = sorted([
    "ConfigError", "KernelSettings", "Settings", "SettingsSpec", "Storage", "UploadMeta",
    "clean_file_name", "contract", "hookimpl", "new_media_id", "parse_bool", "spec_fragment",
    *_LAZY_NAMES,
])
