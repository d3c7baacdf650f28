"""Storage plugin ``s3``: packages in an S3-compatible object store, shared by many instances.

Enable it with ``plugins = [..., "s3"]`` and ``storage = "s3"`` in ``[kernel]``; configure it in
``[plugin.s3]`` or with ``ISCC_WEB_S3_*`` variables (see :class:`plugins.s3.settings.S3Settings`).
boto3 is imported only when the backend is actually selected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kernel import Settings, SettingsSpec, Storage, hookimpl
from plugins.s3.settings import SECTION, S3Settings


def create_s3_storage(settings: Settings) -> Storage:
    """Build the backend from the app's frozen settings (``[plugin.s3]``)."""
    from plugins.s3.storage import S3Storage

    return S3Storage(settings.of(SECTION))


@hookimpl
def register_settings() -> SettingsSpec:
    return SettingsSpec(SECTION, S3Settings, env_prefix="ISCC_WEB_S3_")


@hookimpl
def register_storage() -> Mapping[str, Callable[[Settings], Storage]]:
    return {"s3": create_s3_storage}
