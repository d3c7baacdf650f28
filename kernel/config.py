"""Settings: ``plugins.toml`` plus ``ISCC_WEB_*`` overrides, validated once and frozen.

Nothing here runs at import time. :func:`load_raw_config` reads the TOML file, and
:func:`structure_section` turns one table (plus its environment overrides) into a frozen attrs
instance, failing with one line that names the offending key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs

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


# --- strict structuring ---------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _strict(kind: type, accept: tuple[type, ...]) -> Any:
    def hook(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise ValueError(f"expected {kind.__name__}, got {value!r}")
        if not isinstance(value, accept):
            raise ValueError(f"expected {kind.__name__}, got {value!r}")
        return kind(value)

    return hook


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strict(str, (str,)))
    converter.register_structure_hook(int, _strict(int, (int,)))
    converter.register_structure_hook(float, _strict(float, (int, float)))
    converter.register_structure_hook(bool, _strict(bool, (bool,)))
    return converter


_converter = _make_converter()


def parse_bool(text: str) -> bool:
    """``true``/``false``, ``1``/``0``, ``yes``/``no``, ``on``/``off``, in any case.

    Raises:
        ValueError: any other text.
    """
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected a boolean, got {text!r}")


def _parse_env(raw: str, kind: Any) -> Any:
    """Turn an environment string into the plain value a field of type ``kind`` expects."""
    args = get_args(kind)
    if type(None) in args:  # Optional[X]
        if raw.strip().lower() in ("", "none", "null"):
            return None
        kind = next(a for a in args if a is not type(None))
    if get_origin(kind) is tuple:
        return [part for part in raw.replace(",", " ").split() if part]
    if kind is bool:
        return parse_bool(raw)
    if kind is int:
        return int(raw.strip())
    if kind is float:
        return float(raw.strip())
    return raw


def _format(exc: BaseException, _type: Any) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return "unknown key " + ", ".join(repr(k) for k in sorted(exc.extra_fields))
    return str(exc) or type(exc).__name__


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        messages = cattrs.transform_error(exc, format_exception=_format)
        return "; ".join(m.removesuffix(" @ $") for m in messages)
    return str(exc)


def structure_section(
    cls: type[T],
    data: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    env_prefix: str,
    where: str,
) -> T:
    """Build a frozen settings instance from a TOML table and its environment overrides.

    Raises:
        ConfigError: an unknown key, a value of the wrong type or one a validator rejects.
    """
    values = dict(data)
    hints = _resolved_types(cls)
    for name in hints:
        env_name = env_prefix + name.upper()
        if env_name in env:
            try:
                values[name] = _parse_env(env[env_name], hints[name])
            except ValueError as exc:
                raise ConfigError(f"environment {env_name}: {exc}") from None
    try:
        return _converter.structure(values, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {_describe(exc)}") from None


def _resolved_types(cls: Any) -> dict[str, Any]:
    attrs.resolve_types(cls)
    return {field.name: field.type for field in attrs.fields(cls)}


def load_raw_config(config: str | Path | Mapping[str, Any] | None, env: Mapping[str, str]
                    ) -> tuple[dict[str, Any], str, Path]:
    """Read the configuration source.

    Args:
        config: a path to a TOML file, an already-parsed mapping, or ``None`` (then
            ``ISCC_WEB_CONFIG`` or ``./plugins.toml`` when present, else embedded defaults).
        env: the environment to consult for ``ISCC_WEB_CONFIG``.

    Returns:
        The parsed tables, a label for messages, and the directory relative paths start from.
    """
    if isinstance(config, Mapping):
        return dict(config), "configuration", Path.cwd()
    if config is None:
        config = env.get(ENV_PREFIX + "CONFIG") or None
        if config is None and Path("plugins.toml").is_file():
            config = "plugins.toml"
    if config is None:
        return {}, "embedded defaults", Path.cwd()
    path = Path(config)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return data, str(path), path.resolve().parent


def load_kernel_settings(raw: Mapping[str, Any], env: Mapping[str, str], source: str,
                         base_dir: Path) -> KernelSettings:
    """Structure ``[kernel]``, reject unknown top-level tables, resolve ``media_path``."""
    unknown = sorted(set(raw) - {"kernel", "plugin"})
    if unknown:
        raise ConfigError(
            f"{source}: unknown table [{unknown[0]}]; expected [kernel] and [plugin.<name>]"
        )
    table = raw.get("kernel", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: [kernel] must be a table")
    kernel = structure_section(
        KernelSettings, table, env, env_prefix=ENV_PREFIX, where=f"{source} [kernel]"
    )
    media = Path(os.path.expanduser(kernel.media_path))
    if not media.is_absolute():
        media = base_dir / media
    return attrs.evolve(kernel, media_path=str(media))


def load_plugin_settings(raw: Mapping[str, Any], env: Mapping[str, str], source: str,
                         specs: list[SettingsSpec], known_plugins: set[str]) -> dict[str, Any]:
    """Structure every declared ``[plugin.<section>]`` table.

    A table for a plugin that exists but is disabled is ignored; any other unknown table fails.
    """
    tables = raw.get("plugin", {})
    if not isinstance(tables, Mapping):
        raise ConfigError(f"{source}: [plugin] must hold tables [plugin.<name>]")
    declared = {spec.section for spec in specs}
    for name in tables:
        if name not in declared and name not in known_plugins:
            raise ConfigError(f"{source}: unknown table [plugin.{name}]")
    result: dict[str, Any] = {}
    for spec in specs:
        if spec.section in result:
            raise ConfigError(f"two plugins declare the settings section [plugin.{spec.section}]")
        result[spec.section] = structure_section(
            spec.cls, tables.get(spec.section, {}), env, env_prefix=spec.env_prefix,
            where=f"{source} [plugin.{spec.section}]",
        )
    return result
