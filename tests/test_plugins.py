"""Plugin loading and every hook, through the same path third-party plugins take."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from quart import Blueprint

from kernel import API_PREFIX, ConfigError, hookimpl
from kernel import hookspecs as specs
from kernel.context import runtime_of
from kernel.storage_fs import FileSystemStorage
from kernel.workers_parallel import TrioParallelWorkers
from tests import sample_plugin
from tests.conftest import plugin_object, upload_headers

HOOKS = sorted(
    name for name, fn in vars(specs).items()
    if inspect.isfunction(fn) and hasattr(fn, "iscc_web_spec")
)


def test_every_hookspec_has_a_docstring_and_a_test():
    source = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    assert HOOKS, "no hookspecs found"
    for name in HOOKS:
        assert (getattr(specs, name).__doc__ or "").strip(), f"{name} has no docstring"
        assert re.search(rf"def test_\w*hook_{name}\w*\(", source), f"{name}: no test_hook_{name}"


@pytest.fixture
def entry_point_dist(tmp_path, monkeypatch):
    """Install a distribution that declares ``tests.sample_plugin`` as an entry point."""
    dist = tmp_path / "site" / "hello_plugin-1.2.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text("[iscc_web.plugins]\nhello = tests.sample_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()


async def test_hook_register_blueprints_entry_point_plugin_adds_a_route(make_app,
                                                                       entry_point_dist):
    app = make_app(kernel={"plugins": ["media", "hello"]}, env={"HELLO_GREETING": "hi"})
    async with app.test_app() as test_app:
        r = await test_app.test_client().get("/api/v1/hello")
        assert r.status_code == 200
        assert await r.get_json() == {"greeting": "hi"}


async def test_entry_point_plugin_is_blocked_unless_enabled(make_app, entry_point_dist):
    app = make_app(kernel={"plugins": ["media"]})
    async with app.test_app() as test_app:
        assert (await test_app.test_client().get("/api/v1/hello")).status_code == 404


def test_hook_register_settings_section_and_env_prefix(make_app):
    app = make_app(kernel={"plugins": ["hello"]}, plugin={"hello": {"greeting": "moin"}},
                   plugins={"hello": sample_plugin})
    assert runtime_of(app).settings.of("hello").greeting == "moin"
    with pytest.raises(ConfigError, match=r"\[plugin.hello\]: unknown key 'colour'"):
        make_app(kernel={"plugins": ["hello"]}, plugin={"hello": {"colour": "red"}},
                 plugins={"hello": sample_plugin})


async def test_disabled_group_answers_404(make_app):
    app = make_app(kernel={"plugins": ["explain"]})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        r = await client.post("/api/v1/media", data=b"x", headers=upload_headers())
        assert r.status_code == 404
        assert (await client.get("/api/v1/explain/AAA4RJYGHHVRCZ5T")).status_code == 200


def test_misspelled_hookimpl_fails_start_up(make_app):
    plugin = plugin_object(register_blueprint=hookimpl(lambda settings: []))
    with pytest.raises(ConfigError, match="'typo'.*register_blueprint"):
        make_app(kernel={"plugins": ["typo"]}, plugins={"typo": plugin})


def test_two_plugins_claiming_one_route_fail_start_up(make_app):
    clash = Blueprint("clash", __name__, url_prefix=API_PREFIX)
    clash.add_url_rule("/media", "upload", lambda: "", methods=["POST"])
    plugin = plugin_object(register_blueprints=hookimpl(lambda settings: [clash]))
    with pytest.raises(ConfigError, match="'media' and 'clash' both serve POST /api/v1/media"):
        make_app(kernel={"plugins": ["media", "clash"]}, plugins={"clash": plugin})


def test_a_plugin_name_may_not_shadow_a_builtin(make_app):
    with pytest.raises(ConfigError, match="provided twice"):
        make_app(plugins={"media": sample_plugin})


async def test_hook_worker_init_runs_in_each_worker(make_app):
    app = make_app(kernel={"plugins": ["hello"]}, plugins={"hello": sample_plugin})
    async with app.test_app() as test_app:
        r = await test_app.test_client().get("/api/v1/hello/worker")
        assert await r.get_json() == {"value": "initialised"}


async def test_hook_lifespan_and_hook_status_report(make_app):
    sample_plugin.EVENTS.clear()
    app = make_app(kernel={"plugins": ["hello"]}, plugins={"hello": sample_plugin})
    async with app.test_app() as test_app:
        r = await test_app.test_client().get("/api/v1/-/status",
                                             scope_base={"client": ("127.0.0.1", 1)})
        body = await r.get_json()
        assert body["hello"] == {"events": ["start"]}
        assert {"name": "hello", "version": "1.2.3"}.items() <= body["plugins"][0].items()
        assert "lifespan" in body["plugins"][0]["hooks"]
    assert sample_plugin.EVENTS == ["start", "stop"]


def test_hook_openapi_spec_fragments_are_merged(make_app):
    app = make_app(kernel={"plugins": ["hello"]}, plugins={"hello": sample_plugin})
    document = runtime_of(app).openapi
    assert document["paths"]["/hello"]["get"]["operationId"] == "hello"
    # the kernel knows no contract of its own: the info comes from the fragments
    assert document["info"] == {"title": "API", "version": "0"}
    with_iscc = runtime_of(make_app(kernel={"plugins": ["hello", "iscc"]},
                                    plugins={"hello": sample_plugin})).openapi
    assert with_iscc["info"]["title"] == "ISCC-WEB Generator API"


class TaggedStorage(FileSystemStorage):
    """A storage backend offered by a plugin under its own name."""


def test_hook_register_storage_backend_selected_by_name(make_app, media_path):
    plugin = plugin_object(
        register_storage=hookimpl(lambda: {"tagged": lambda s: TaggedStorage(media_path)})
    )
    app = make_app(kernel={"plugins": ["tagged"], "storage": "tagged"},
                   plugins={"tagged": plugin})
    assert isinstance(runtime_of(app).storage, TaggedStorage)
    # the default stays the filesystem when the plugin is merely enabled
    app = make_app(kernel={"plugins": ["tagged"]}, plugins={"tagged": plugin})
    assert type(runtime_of(app).storage) is FileSystemStorage


def test_hook_register_workers_backend_selected_by_name(make_app):
    def factory(settings, initializers):
        return TrioParallelWorkers(max_workers=1, max_queue=0, timeout=1,
                                   initializers=initializers)

    plugin = plugin_object(register_workers=hookimpl(lambda: {"single": factory}))
    app = make_app(kernel={"plugins": ["single"], "workers": "single"},
                   plugins={"single": plugin})
    assert runtime_of(app).workers.max_workers == 1


def test_two_backends_with_one_name_fail(make_app):
    plugin = plugin_object(register_storage=hookimpl(lambda: {"fs": lambda s: None}))
    with pytest.raises(ConfigError, match="two plugins offer the storage backend 'fs'"):
        make_app(kernel={"plugins": ["dup"]}, plugins={"dup": plugin})


async def test_hook_media_access_and_hook_actor_from_request_override_the_defaults(make_app):
    seen = []

    def actor_from_request(request, settings):
        return "team-" + request.headers.get("X-Team", "none")

    def media_access(actor, meta, action, settings):
        seen.append(action)
        return actor == meta.user or actor == "team-admin"

    plugin = plugin_object(actor_from_request=hookimpl(actor_from_request),
                                   media_access=hookimpl(media_access))
    app = make_app(kernel={"plugins": ["media", "teams"]}, plugins={"teams": plugin})
    async with app.test_app() as test_app:
        client = test_app.test_client()
        r = await client.post("/api/v1/media", data=b"x",
                              headers={**upload_headers(), "X-Team": "red"})
        media_id = (await r.get_json())["media_id"]
        url = f"/api/v1/media/{media_id}"
        assert (await client.get(url, headers={"X-Team": "blue"})).status_code == 403
        assert (await client.get(url, headers={"X-Team": "admin"})).status_code == 200
        assert (await client.delete(url, headers={"X-Team": "red"})).status_code == 204
    assert seen == ["download", "download", "delete"]


def test_work_modules_import_without_the_web_stack():
    """Worker processes import ``plugins.<group>.work`` by name: no Quart, hypercorn or kernel
    app may come with it (they would cost every worker time and memory)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    modules = sorted(
        ".".join(p.relative_to(root).with_suffix("").parts)
        for p in (root / "plugins").glob("*/work.py")
    )
    assert "plugins._processing.work" in modules
    assert len(modules) >= 2
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "web = {'quart', 'quart_trio', 'hypercorn', 'werkzeug', 'kernel.app'}\n"
        "heavy = web & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


async def test_every_hook_accepts_a_zero_argument_hookimpl(make_app, media_path):
    """pluggy lets an implementation take fewer arguments than the spec: none at all works."""
    from contextlib import asynccontextmanager

    import attrs

    from kernel import SettingsSpec

    events: list[str] = []
    blueprint = Blueprint("zero", __name__, url_prefix=API_PREFIX)

    @blueprint.get("/zero")
    async def zero_route() -> dict[str, str]:
        return {"zero": "served"}

    @attrs.frozen(kw_only=True)
    class ZeroSettings:
        level: int = 1

    @asynccontextmanager
    async def running():
        events.append("start")
        yield
        events.append("stop")

    def workers(settings, initializers):
        return TrioParallelWorkers(max_workers=1, max_queue=0, timeout=5,
                                   initializers=initializers)

    impls = {
        "register_settings": lambda: SettingsSpec("zero", ZeroSettings, env_prefix="ZERO_"),
        "register_storage": lambda: {"zero-fs": lambda s: FileSystemStorage(media_path)},
        "register_workers": lambda: {"zero-workers": workers},
        "worker_init": lambda: None,
        "asgi_wrapper": lambda: lambda asgi_app: events.append("wrapped") or asgi_app,
        "register_blueprints": lambda: [blueprint],
        "openapi_spec": lambda: {"paths": {"/zero": {"get": {"operationId": "zero",
                                                             "responses": {}}}}},
        "lifespan": lambda: running(),
        "status_report": lambda: {"zero": {"events": list(events)}},
        "actor_from_request": lambda: "zero-actor",
        "media_access": lambda: True,
    }
    assert sorted(impls) == HOOKS, "a hook is missing from this test"
    plugin = plugin_object(**{name: hookimpl(fn) for name, fn in impls.items()})
    app = make_app(kernel={"plugins": ["media", "zero"], "storage": "zero-fs",
                           "workers": "zero-workers"},
                   plugins={"zero": plugin}, env={"ZERO_LEVEL": "7"})
    rt = runtime_of(app)
    assert rt.settings.plugin["zero"].level == 7
    assert rt.workers.max_workers == 1
    assert rt.openapi["paths"]["/zero"]["get"]["operationId"] == "zero"
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert await (await client.get("/api/v1/zero")).get_json() == {"zero": "served"}
        status = await (await client.get("/api/v1/-/status")).get_json()
        assert status["zero"] == {"events": ["wrapped", "start"]}
        r = await client.post("/api/v1/media", data=b"x", headers=upload_headers())
        media_id = (await r.get_json())["media_id"]
        meta = await rt.storage.load_meta(media_id)
        assert meta.user == "zero-actor"
        # media_access answers True for everyone: another client may download
        r = await client.get(f"/api/v1/media/{media_id}", headers={"X-Team": "other"})
        assert r.status_code == 200
    assert events == ["wrapped", "start", "stop"]


def test_hook_facade_methods_are_named_after_their_hooks():
    from kernel.plugins import PluginHost

    facade = {name for name in vars(PluginHost) if not name.startswith("_")}
    assert set(HOOKS) <= facade, set(HOOKS) - facade
