"""Settings: what the kernel and each plugin are configured with, validated once and frozen.

The settings classes live here; reading ``plugins.toml`` and the ``ISCC_WEB_*`` overrides into
them is :mod:`kernel.config_load`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

T = TypeVar("T")

ENV_PREFIX = "ISCC_WEB_"


class ConfigError(Exception):
    """Invalid configuration; the message is one line naming the key."""


def _positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _not_negative(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _not_negative_or_none(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None:
        _not_negative(instance, attribute, value)


@attrs.frozen(kw_only=True)
class KernelSettings:
    """The kernel's settings: table ``[kernel]`` in plugins.toml, env ``ISCC_WEB_<NAME>``."""

    #: Endpoint groups to enable, by name. ``None`` enables every built-in group.
    plugins: tuple[str, ...] | None = None
    #: Storage backend, by the name a ``register_storage`` hook gives it.
    storage: str = "fs"
    #: Worker backend, by the name a ``register_workers`` hook gives it.
    workers: str = "trio-parallel"
    #: ``development`` or ``production``: the environment error reports are filed under.
    environment: str = "development"
    #: Public origin of the service; also where ``iscc-web`` binds by default.
    site_address: str = "http://localhost:8000"
    #: Storage root for the filesystem backend (relative to the config file or the cwd).
    media_path: str = "media"
    #: Worker processes (default: the CPU count).
    max_workers: int | None = attrs.field(default=None, validator=_positive)
    #: Largest accepted upload in bytes (also the /simprint text limit).
    max_upload_size: int = attrs.field(default=1_073_741_824, validator=_positive)
    #: Chunk size for streamed downloads.
    io_read_size: int = attrs.field(default=2_097_152, validator=_positive)
    #: Only the uploader may download, delete or embed into a package.
    private_files: bool = True
    #: Only the uploader may read a package's results (GET /iscc/{id}, GET /metadata/{id});
    #: off, whoever holds the (unguessable) media id may, as with iscc-web's shareable links.
    private_results: bool = False
    #: Secret keying the owner hash of client addresses; empty: generated once and kept by the
    #: storage backend (``<media_path>/.owner_key`` for fs), shared by all instances on it.
    owner_key: str = ""
    #: Allowed CORS origins, separated by spaces or commas; empty disables CORS.
    cors_origins: str = ""
    #: Age in seconds after which the sweeper deletes a package.
    storage_expiry: int = 3600
    #: Seconds between sweeps; 0 disables the sweeper.
    cleanup_interval: int = attrs.field(default=600, validator=_not_negative)
    #: Python logging level.
    log_level: str = "INFO"
    #: Sentry DSN; when set (and the ``sentry`` group enabled) errors are reported there.
    sentry_dsn: str = ""
    #: Jobs allowed to wait for a busy worker before new ones get 503.
    max_queue: int = attrs.field(default=64, validator=_not_negative)
    #: Seconds an upload may stall (no bytes arriving) before it gets 408.
    body_timeout: float = attrs.field(default=60.0, validator=_positive)
    #: Seconds one worker job may run before it is stopped (422) and its worker recycled.
    process_timeout: float = attrs.field(default=300.0, validator=_positive)
    #: Proxy addresses whose ``X-Forwarded-For`` is trusted for the client address.
    trusted_proxies: tuple[str, ...] = ()
    #: Scheduling niceness added to worker processes, so the event loop (accepting, streaming,
    #: answering) is never starved by CPU-bound jobs; 0 keeps the server's own priority.
    worker_niceness: int = attrs.field(default=5, validator=_not_negative)
    #: Address-space data limit (``RLIMIT_DATA``) of each worker and each tool it starts, in
    #: bytes; a job that hits it answers 422 and its worker is replaced. 0: no limit.
    worker_memory_limit: int = attrs.field(default=2_147_483_648, validator=_not_negative)
    #: A worker whose resident memory exceeds this many bytes after a job is replaced. 0: never.
    worker_recycle_rss: int = attrs.field(default=536_870_912, validator=_not_negative)
    #: Directory for the jobs' private working directories (default: the system temp dir).
    work_path: str = ""
    #: Largest accepted JSON request body in bytes (``/simprint`` has its own text limit).
    max_json_body: int = attrs.field(default=1_048_576, validator=_positive)
    #: Start every worker (and run plugin worker initialisers) at start-up.
    warm_workers: bool = False
    #: Client networks that see the whole ``/-/status`` (storage, workers, versions).
    status_networks: tuple[str, ...] = ("127.0.0.0/8", "::1")
    #: Bytes one client may hold in storage at once; ``None``: 4 x ``max_upload_size``; 0: off.
    owner_quota_bytes: int | None = attrs.field(default=None, validator=_not_negative_or_none)
    #: Packages one client may hold at once; 0: no limit.
    owner_quota_packages: int = attrs.field(default=10_000, validator=_not_negative)
    #: Bytes all clients together may hold; 0: no cap. The last ``owner_quota_bytes`` of it
    #: are kept for clients that hold nothing yet.
    storage_quota_bytes: int = attrs.field(default=0, validator=_not_negative)
    #: Processing requests (worker jobs) one client may start per minute; 0: no limit.
    owner_rate_limit: int = attrs.field(default=0, validator=_not_negative)
    #: Seconds an idle keep-alive connection stays open after its last answer (nginx: 75).
    keep_alive_timeout: float = attrs.field(default=75.0, validator=_positive)
    #: Seconds a response may wait for a client that stopped reading; then the connection is
    #: closed and the file released (nginx ``send_timeout``: 60).
    send_timeout: float = attrs.field(default=60.0, validator=_positive)
    #: Seconds in-flight requests get to finish when the server is asked to stop.
    graceful_timeout: float = attrs.field(default=30.0, validator=_not_negative)
    #: HTTP server processes on the one port (SO_REUSEPORT); ``max_workers`` and ``max_queue``
    #: are shared among them, and only the first runs the sweeper.
    http_processes: int = attrs.field(default=1, validator=_positive)
    #: Seconds an asynchronous job's state stays valid without renewal by the instance running
    #: it; a job whose instance died is reported failed once this ran out.
    job_lease: float = attrs.field(default=30.0, validator=_positive)
    #: Seconds between reads of a job's state by an event stream for another instance's job.
    job_poll_interval: float = attrs.field(default=1.0, validator=_positive)
    #: Seconds between heartbeat comments on an idle job event stream.
    job_heartbeat: float = attrs.field(default=15.0, validator=_positive)


@attrs.frozen
class SettingsSpec:
    """What a plugin declares through ``register_settings``.

    Args:
        section: Its table in plugins.toml, ``[plugin.<section>]``.
        cls: A frozen attrs class whose fields all have defaults.
        env_prefix: Environment overrides are ``<env_prefix><FIELD>``.
    """

    section: str
    cls: type
    env_prefix: str = ENV_PREFIX


@attrs.frozen
class Settings:
    """Everything the app was configured with, frozen."""

    kernel: KernelSettings
    plugin: Mapping[str, Any] = attrs.field(factory=dict)
    source: str = "embedded defaults"

    def of(self, section: str) -> Any:
        """The settings instance of one plugin section."""
        return self.plugin[section]
