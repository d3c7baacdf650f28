"""One cattrs converter for the API bodies: strict types, JSON names, ``None`` fields omitted."""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from kernel import BadRequest
from plugins._schema.models import SCHEMAS as _MODELS
from plugins._schema.similar import SIMILAR_SCHEMAS

#: Every body model, by the name of its schema in openapi.yaml.
SCHEMAS: dict[str, type] = {**_MODELS, **SIMILAR_SCHEMAS}

T = TypeVar("T")


def _strict(kind: type) -> Any:
    """Accept only values of ``kind`` as JSON decodes them (cattrs would convert silently)."""

    def hook(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {_json_type(kind)}, got a boolean")
        if kind is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, kind):
            raise TypeError(f"expected {_json_type(kind)}, got {type(value).__name__}")
        return value

    return hook


def _json_type(kind: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}[kind]


def _is_plain_union(tp: Any) -> bool:
    """``str | list[str]`` and the like: unions cattrs cannot pick a member of by itself."""
    if get_origin(tp) not in (typing.Union, types.UnionType):
        return False
    members = [a for a in get_args(tp) if a is not type(None)]
    return len(members) > 1 and not any(attrs.has(m) for m in members)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    for kind in (str, int, float, bool):
        converter.register_structure_hook(kind, _strict(kind))

    def structure_union(value: Any, tp: Any) -> Any:
        if value is None and type(None) in get_args(tp):
            return None
        errors = []
        for member in (a for a in get_args(tp) if a is not type(None)):
            try:
                return converter.structure(value, member)
            except (TypeError, ValueError, cattrs.BaseValidationError) as exc:
                errors.append(exc)
        raise TypeError(f"expected one of {tp}, got {type(value).__name__}")

    converter.register_structure_hook_func(_is_plain_union, structure_union)
    for cls in SCHEMAS.values():
        attrs.resolve_types(cls)
        renames: dict[str, Any] = {f.name: override(rename=f.metadata["json"])
                   for f in attrs.fields(cls) if "json" in f.metadata}
        converter.register_structure_hook(
            cls, make_dict_structure_fn(cls, converter, **renames)
        )
        converter.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=True, **renames)
        )
    return converter


#: Structures JSON-decoded data into the models and back (``None`` fields left out).
converter = _make_converter()


def load(cls: type[T], data: Any) -> T:
    """Build ``cls`` from JSON-decoded ``data``; unknown keys are ignored.

    Raises:
        BadRequest: a field is missing, of the wrong type or violates a constraint.
    """
    if attrs.has(cls) and not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        messages = [_named(message, exc) for message in cattrs.transform_error(exc)]
        raise BadRequest("Invalid request body: " + "; ".join(messages)) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadRequest(f"Invalid request body: {exc}") from None


def _named(message: str, exc: cattrs.BaseValidationError) -> str:
    """A validator that fails while the class is built is reported at ``$``: name its field."""
    if message != "invalid value @ $":
        return message
    fields = [f"invalid value for '{e.args[1].name}'" for e in exc.exceptions
              if len(e.args) > 1 and isinstance(e.args[1], attrs.Attribute)]
    return "; ".join(fields) or message


def dump(obj: Any) -> Any:
    """The JSON-ready form of a model instance (fields that are ``None`` are left out)."""
    return converter.unstructure(obj)
