"""Settings: plugins.toml + ISCC_WEB_* overrides, validated once, frozen, clear errors."""

from __future__ import annotations

import attrs
import pytest

from kernel import ConfigError, create_app
from kernel.context import runtime_of


def kernel_of(app):
    return runtime_of(app).settings.kernel


def test_embedded_defaults_match_the_contract(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no plugins.toml here
    k = kernel_of(create_app(env={}))
    assert k.max_upload_size == 1_073_741_824
    assert k.io_read_size == 2_097_152
    assert k.private_files is True
    assert k.storage_expiry == 3600
    assert k.cleanup_interval == 600
    assert k.site_address == "http://localhost:8000"
    assert k.media_path == str(tmp_path / "media")
    assert k.storage == "fs"
    assert k.workers == "trio-parallel"


def test_toml_file_then_environment_override(tmp_path):
    config = tmp_path / "conf" / "plugins.toml"
    config.parent.mkdir()
    config.write_text('[kernel]\nplugins = ["media"]\nmax_workers = 3\nmedia_path = "data"\n'
                      'private_files = true\n')
    app = create_app(config, env={"ISCC_WEB_PRIVATE_FILES": "false", "ISCC_WEB_MAX_QUEUE": "7"})
    k = kernel_of(app)
    assert k.plugins == ("media",)
    assert k.max_workers == 3
    assert k.private_files is False
    assert k.max_queue == 7
    assert k.media_path == str(tmp_path / "conf" / "data")  # relative to the config file
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        k.max_workers = 4  # type: ignore[misc]


def test_config_path_from_the_environment(tmp_path):
    config = tmp_path / "x.toml"
    config.write_text('[kernel]\nmax_queue = 9\n')
    assert kernel_of(create_app(env={"ISCC_WEB_CONFIG": str(config)})).max_queue == 9


def test_plugins_list_from_the_environment(tmp_path):
    app = create_app({"kernel": {"media_path": str(tmp_path)}},
                     env={"ISCC_WEB_PLUGINS": "explain, media"})
    assert runtime_of(app).host.enabled == ("explain", "media")


@pytest.mark.parametrize(
    ("config", "env", "message"),
    [
        ({"kernel": {"max_wrokers": 2}}, {}, "[kernel]: unknown key 'max_wrokers'"),
        ({"kernel": {"max_workers": "two"}}, {}, "expected int, got 'two'"),
        ({"kernel": {"max_workers": 0}}, {}, "max_workers must be > 0, got 0"),
        ({"kernel": {"private_files": "yes"}}, {}, "expected bool, got 'yes'"),
        ({"kernal": {}}, {}, "unknown table [kernal]"),
        ({"plugin": {"nosuch": {}}}, {}, "unknown table [plugin.nosuch]"),
        ({}, {"ISCC_WEB_MAX_UPLOAD_SIZE": "big"}, "environment ISCC_WEB_MAX_UPLOAD_SIZE"),
        ({}, {"ISCC_WEB_PRIVATE_FILES": "maybe"}, "expected a boolean, got 'maybe'"),
        ({"kernel": {"plugins": ["media", "nosuch"]}}, {}, "unknown plugin 'nosuch'"),
        ({"kernel": {"storage": "tape"}}, {}, "[kernel] storage: unknown backend 'tape'"),
        ({"kernel": {"workers": "threads"}}, {}, "[kernel] workers: unknown backend 'threads'"),
    ],
)
def test_bad_configuration_fails_with_one_clear_line(config, env, message):
    with pytest.raises(ConfigError) as info:
        create_app(config, env=env)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        create_app(tmp_path / "absent.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[kernel\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        create_app(bad, env={})


def test_the_repository_plugins_toml_is_valid():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    app = create_app(root / "plugins.toml", env={})
    assert "media" in runtime_of(app).host.enabled
