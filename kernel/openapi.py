"""The served OpenAPI document: the fragments of every enabled plugin, merged."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kernel.config import Settings

BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "servers": [{"url": "/api/v1"}],
}
#: The ``info`` of a served document when no fragment brings one.
DEFAULT_INFO: dict[str, Any] = {"title": "API", "version": "0"}


def _merge(into: dict[str, Any], fragment: Mapping[str, Any], path: str) -> None:
    for key, value in fragment.items():
        if key in into and isinstance(into[key], dict) and isinstance(value, Mapping):
            _merge(into[key], value, f"{path}.{key}")
        elif key in into and isinstance(into[key], list) and isinstance(value, list):
            into[key].extend(v for v in value if v not in into[key])
        elif key in into and into[key] != value:
            raise ValueError(f"OpenAPI fragments disagree at {path}.{key}")
        else:
            into[key] = value if not isinstance(value, Mapping) else _copy(value)


def _copy(value: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    _merge(merged, value, "")
    return merged


def merge_fragments(fragments: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge plugin fragments over the base document; conflicting leaves are an error."""
    document = _copy(BASE)
    document.setdefault("paths", {})
    for fragment in fragments:
        _merge(document, fragment, "$")
    document.setdefault("info", copy.deepcopy(DEFAULT_INFO))
    return document


# --- cutting a group's fragment out of a document ----------------------------------------

#: Tags whose operations the kernel serves itself, whatever plugins are enabled, in the
#: order a served document lists them.
KERNEL_TAGS = ("status", "jobs")
_COMPONENT_REF = "#/components/"
#: Fields of a path item that are not operations (OpenAPI 3.0 Path Item Object).
PATH_ITEM_FIELDS = frozenset({"summary", "description", "servers", "parameters"})


def _refs(node: Any) -> Iterator[tuple[str, str]]:
    """Every ``(kind, name)`` that ``node`` references as ``#/components/<kind>/<name>``."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENT_REF):
            kind, _, name = ref.removeprefix(_COMPONENT_REF).partition("/")
            yield kind, name
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _operation_tags(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """operationId -> tags, over the whole document."""
    found: dict[str, set[str]] = {}
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, Mapping) and "operationId" in operation:
                found[operation["operationId"]] = set(operation.get("tags", ()))
    return found


def _link_target(link: Mapping[str, Any], document: Mapping[str, Any]) -> str | None:
    ref = link.get("$ref")
    if isinstance(ref, str) and ref.startswith(_COMPONENT_REF + "links/"):
        link = document.get("components", {}).get("links", {}).get(ref.rpartition("/")[2], {})
    return link.get("operationId")


def spec_fragment(tag: str, settings: Settings | None = None, *,
                  document: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an OpenAPI document that one endpoint group serves, for ``openapi_spec``.

    Args:
        tag: the operations' tag (built-in groups tag their operations with their own name).
        settings: when given, links to operations of groups that are not enabled are dropped,
            so a deployment without a group never points at its operations.
        document: the OpenAPI document to cut from (the plugin's own contract).

    Returns:
        ``paths`` with the operations tagged ``tag`` (and their path items' ``servers``,
        ``parameters``, ``summary`` and ``description``), the ``tags`` entry for it, and the
        ``components`` those operations reference (transitively).

    Raises:
        KeyError: no operation in the document has this tag.
    """
    source = document
    owners = _operation_tags(source)
    enabled = None if settings is None or settings.kernel.plugins is None else (
        {*settings.kernel.plugins, *KERNEL_TAGS}
    )
    paths: dict[str, Any] = {}
    for path, item in source.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, Mapping) and tag in operation.get("tags", ()):
                paths.setdefault(path, {})[method] = copy.deepcopy(operation)
        if path in paths:  # what the path item says for all its operations (servers, ...)
            paths[path].update({key: copy.deepcopy(value) for key, value in item.items()
                                if key in PATH_ITEM_FIELDS})
    if not paths:
        raise KeyError(f"no operation is tagged {tag!r}")
    for item in paths.values():
        for method, operation in item.items():
            if method in PATH_ITEM_FIELDS:
                continue
            for response in operation.get("responses", {}).values():
                links = response.get("links")
                if not links:
                    continue
                for name in list(links):
                    target = _link_target(links[name], source)
                    if target not in owners or (
                        enabled is not None and not owners[target] & (enabled | {tag})
                    ):
                        del links[name]
                if not links:
                    del response["links"]
    fragment: dict[str, Any] = {"paths": paths}
    fragment["tags"] = [copy.deepcopy(t) for t in source.get("tags", ()) if t.get("name") == tag]
    components = source.get("components", {})
    wanted: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    while pending:
        kind, name = pending.pop()
        if name in wanted.get(kind, {}):
            continue
        value = components[kind][name]
        wanted.setdefault(kind, {})[name] = copy.deepcopy(value)
        pending.extend(_refs(value))
    if wanted:
        fragment["components"] = {
            kind: {name: wanted[kind][name] for name in components[kind] if name in wanted[kind]}
            for kind in components if kind in wanted
        }
    return fragment
