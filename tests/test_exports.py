"""The plugin-author API (``kernel``): every name stated once, resolvable, light where promised."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kernel
from kernel import api_light, api_web

ROOT = Path(__file__).resolve().parent.parent


def _imported_names(module) -> set[str]:
    """Names a module binds through its import statements (its part of the API)."""
    tree = ast.parse(Path(module.__file__).read_text())
    return {
        alias.asname or alias.name
        for node in tree.body if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_the_api_is_what_the_two_modules_import_and_nothing_else():
    light, web = _imported_names(api_light), _imported_names(api_web)
    assert not light & web, f"stated twice: {light & web}"
    assert sorted(kernel.__all__) == sorted(light | web)
    assert set(kernel.__all__) <= set(dir(kernel))


@pytest.mark.parametrize("name", kernel.__all__)
def test_every_exported_name_resolves_to_the_object_it_names(name):
    value = getattr(kernel, name)
    source = api_light if hasattr(api_light, name) else api_web
    assert value is getattr(source, name)
    assert not name.startswith("_")


def test_unknown_and_private_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        _ = kernel.nonexistent
    with pytest.raises(AttributeError):
        _ = kernel._web_secret


def test_the_light_half_loads_without_the_web_stack():
    names = sorted(_imported_names(api_light))
    code = (
        "import sys, kernel\n"
        f"for name in {names!r}:\n"
        "    getattr(kernel, name)\n"
        "from kernel import hookimpl, Settings, UploadMeta\n"
        "web = {'quart', 'quart_trio', 'hypercorn', 'werkzeug', 'kernel.api_web'}\n"
        "heavy = web & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
