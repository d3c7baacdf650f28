"""The plugin-author API of the ISCC web service kernel.

Plugins import from here and nowhere else in the kernel::

    from kernel import hookimpl, NotFound, get_storage, receive_upload
"""

from kernel.app import create_app
from kernel.bodies import body_chunks, check_content_length, read_json
from kernel.config import ConfigError, KernelSettings, Settings, SettingsSpec
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
from kernel.hookspecs import hookimpl
from kernel.openapi import contract, spec_fragment
from kernel.storage import Storage, UploadMeta, clean_file_name, new_media_id
from kernel.uploads import decode_file_name, receive_upload
from kernel.workers import Workers

__all__ = [
    "API_PREFIX",
    "BadRequest",
    "ConfigError",
    "Forbidden",
    "HttpError",
    "InsufficientStorage",
    "JobTimeout",
    "KernelSettings",
    "NotFound",
    "PayloadTooLarge",
    "RequestTimeout",
    "ServiceUnavailable",
    "Settings",
    "SettingsSpec",
    "Storage",
    "UnprocessableEntity",
    "UploadMeta",
    "Workers",
    "body_chunks",
    "check_content_length",
    "clean_file_name",
    "contract",
    "create_app",
    "current_actor",
    "decode_file_name",
    "get_settings",
    "get_storage",
    "get_workers",
    "hookimpl",
    "media_location",
    "media_url",
    "new_media_id",
    "plugin_settings",
    "problem_response",
    "read_json",
    "receive_upload",
    "require_access",
    "run_sync",
    "runtime",
    "spec_fragment",
]
