"""Settings of the S3 storage backend: ``[plugin.s3]`` in plugins.toml, env ``ISCC_WEB_S3_*``."""

from __future__ import annotations

from typing import Any

import attrs

#: This group's table in plugins.toml, ``[plugin.s3]``.
SECTION = "s3"

#: The smallest part S3 accepts in a multipart upload (except the last one).
MIN_PART_SIZE = 5 * 1024 * 1024


def _positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _part_size(instance: Any, attribute: attrs.Attribute, value: int) -> None:
    if value < MIN_PART_SIZE:
        raise ValueError(f"{attribute.name} must be >= {MIN_PART_SIZE} (the S3 minimum)")


def _prefix(instance: Any, attribute: attrs.Attribute, value: str) -> None:
    if value and not value.endswith("/"):
        raise ValueError(f"{attribute.name} must be empty or end with '/', got {value!r}")


@attrs.frozen(kw_only=True)
class S3Settings:
    """Where and how packages are kept in an S3-compatible object store.

    Credentials left empty fall back to boto3's usual chain (``AWS_*`` variables, shared
    config files, instance roles). ``secret_key`` never appears in a repr or a log line.
    """

    #: Endpoint URL, e.g. ``http://127.0.0.1:8333``; empty means AWS S3 for ``region``.
    endpoint: str = ""
    #: Bucket holding the packages (one key prefix per media id).
    bucket: str = "iscc-web"
    #: Region name used for request signing.
    region: str = "us-east-1"
    #: Access key id (empty: boto3's credential chain).
    access_key: str = ""
    #: Secret access key (empty: boto3's credential chain).
    secret_key: str = attrs.field(default="", repr=False)
    #: Path-style addressing (``endpoint/bucket/key``); needed by most self-hosted stores.
    path_style: bool = False
    #: Key prefix inside the bucket (empty, or ending with ``/``), to share one bucket.
    prefix: str = attrs.field(default="", validator=_prefix)
    #: Create the bucket at start-up when it does not exist.
    create_bucket: bool = False
    #: Bytes per multipart part; also the largest upload sent as a single PUT.
    part_size: int = attrs.field(default=8 * 1024 * 1024, validator=_part_size)
    #: Parts of one upload in flight at once (memory: (this + 1) x part_size per upload).
    upload_concurrency: int = attrs.field(default=2, validator=_positive)
    #: HTTP connections kept to the store (shared by all requests of this instance).
    max_pool_connections: int = attrs.field(default=32, validator=_positive)
    #: Seconds to wait for a TCP connection to the store.
    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    #: Seconds to wait for the store to answer or send more bytes.
    read_timeout: float = attrs.field(default=60.0, validator=_positive)
    #: Attempts per store request (botocore "standard" retries) before giving up with 503.
    max_attempts: int = attrs.field(default=3, validator=_positive)
    #: Local directory for files staged for processing (empty: the system temp dir).
    cache_dir: str = ""
    #: Bytes the staged files of this instance may take at once.
    cache_max_bytes: int = attrs.field(default=4 * 1024**3, validator=_positive)
    #: Seconds a job waits for cache space before it gets 503.
    cache_wait: float = attrs.field(default=60.0, validator=_positive)
