"""The light half of the plugin-author API: no web stack, safe inside worker processes.

Every public name imported here is part of the API (stated once, by its import); ``kernel``
imports this module eagerly.
"""

from kernel.causes import find_cause
from kernel.config import ConfigError, KernelSettings, Settings, SettingsSpec
from kernel.config_load import parse_bool
from kernel.hookspecs import hookimpl
from kernel.openapi import KERNEL_TAGS, spec_fragment
from kernel.sandbox_worker import run_tool
from kernel.storage import (
    MEDIA_ID,
    Storage,
    UploadMeta,
    clean_file_name,
    decode_secret,
    encode_secret,
    new_media_id,
)
