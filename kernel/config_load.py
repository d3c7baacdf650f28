"""Loading settings: ``plugins.toml`` plus ``ISCC_WEB_*`` overrides, strictly structured.

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

from kernel.config import ENV_PREFIX, ConfigError, KernelSettings, SettingsSpec

T = TypeVar("T")


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
