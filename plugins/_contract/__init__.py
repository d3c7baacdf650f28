"""The built-in groups' contract: the repository's ``openapi.yaml``, cut into group fragments.

A library, not a plugin. ``plugins/openapi.yaml`` is a link to the root ``openapi.yaml`` (the
one file), resolved into the package when it is built. The kernel knows nothing of this
document: each group hands its own fragment to the ``openapi_spec`` hook.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
from typing import TYPE_CHECKING, Any

import yaml

from kernel import KERNEL_TAGS, spec_fragment

if TYPE_CHECKING:
    from kernel import Settings

#: The contract's file inside the ``plugins`` package.
RESOURCE = "openapi.yaml"


@functools.cache
def _document() -> dict[str, Any]:
    text = importlib.resources.files("plugins").joinpath(RESOURCE).read_text("utf-8")
    return yaml.safe_load(text)


def contract() -> dict[str, Any]:
    """The whole contract (a fresh copy, safe to change)."""
    return copy.deepcopy(_document())


def contract_fragment(tag: str, settings: Settings | None = None) -> dict[str, Any]:
    """What group ``tag`` adds to the served document: its operations, the kernel's, and
    the contract's ``info``; see :func:`kernel.spec_fragment` for how links are kept."""
    document = _document()
    fragment = spec_fragment(tag, settings, document=document)
    tags: list[Any] = []
    for kernel_tag in KERNEL_TAGS:
        kernel = spec_fragment(kernel_tag, settings, document=document)
        for key in ("paths", "components"):
            for name, value in kernel.get(key, {}).items():
                if key == "components":
                    fragment.setdefault(key, {}).setdefault(name, {}).update(value)
                else:
                    fragment.setdefault(key, {})[name] = value
        tags.extend(kernel["tags"])
    fragment["tags"] = [*tags, *fragment["tags"]]
    fragment["info"] = copy.deepcopy(document["info"])
    return fragment
