"""The attrs models of plugins._schema stay in step with the schemas of openapi.yaml.

For every model: the JSON field names equal the schema's properties (``allOf`` flattened), the
fields without a default are exactly the schema's ``required``, each field's type matches the
property's (string/integer/number/boolean, enums, arrays, unions, nested models), and the
validators carry the schema's ``minLength``/``maxLength``/``pattern``/``minimum``/``maximum``.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import attrs
import pytest
import yaml

from kernel import BadRequest
from plugins._schema import (
    SCHEMAS,
    InlineMetadata,
    IsccDetail,
    IsccMetadata,
    Problem,
    SimprintRequest,
    SimprintResponse,
    Status,
    UploadResponse,
    dump,
    load,
)

ROOT_SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"
DOCUMENT = yaml.safe_load(ROOT_SPEC.read_text("utf-8"))
COMPONENTS = DOCUMENT["components"]["schemas"]
PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean"}
CONSTRAINTS = ("minLength", "maxLength", "pattern", "minimum", "maximum")
#: allOf building blocks, never a body on their own.
PARTS = {"BasicMetadata", "TechnicalMetadata"}


def _named(ref: str) -> str:
    return ref.rpartition("/")[2]


def flattened(name: str) -> dict[str, Any]:
    """``properties`` and ``required`` of a component schema, its ``allOf`` merged in."""
    schema = COMPONENTS[name]
    properties = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        sub = flattened(_named(part["$ref"]))
        properties.update(sub["properties"])
        required |= sub["required"]
    return {"properties": properties, "required": required}


def is_model_schema(name: str) -> bool:
    schema = COMPONENTS[name]
    return "properties" in schema or "allOf" in schema


def spec_shape(prop: dict[str, Any]) -> dict[str, Any]:
    """The type of a property, references to object schemas kept as names."""
    if "$ref" in prop:
        name = _named(prop["$ref"])
        if is_model_schema(name):
            return {"model": name}
        return spec_shape(COMPONENTS[name])
    if "oneOf" in prop:
        return {"oneOf": [spec_shape(p) for p in prop["oneOf"]]}
    shape: dict[str, Any] = {"type": prop["type"]}
    if prop.get("additionalProperties") is True:  # any JSON value
        shape["values"] = {"type": "any"}
    elif "additionalProperties" in prop:
        shape["values"] = spec_shape(prop["additionalProperties"])
    if "enum" in prop:
        shape["enum"] = list(prop["enum"])
    if prop["type"] == "array":
        shape["items"] = spec_shape(prop["items"])
    return shape


def spec_constraints(prop: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        return spec_constraints(COMPONENTS[_named(prop["$ref"])])
    return {k: prop[k] for k in CONSTRAINTS if k in prop}


def model_shape(tp: Any) -> dict[str, Any]:
    """The JSON type a Python annotation stands for, in the shape of :func:`spec_shape`."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return model_shape(members[0])
        return {"oneOf": [model_shape(m) for m in members]}
    if origin is Literal:
        return {"type": "string", "enum": list(get_args(tp))}
    if origin is list:
        return {"type": "array", "items": model_shape(get_args(tp)[0])}
    if origin is dict:
        return {"type": "object", "values": model_shape(get_args(tp)[1])}
    if attrs.has(tp):
        return {"model": next(name for name, cls in SCHEMAS.items() if cls is tp)}
    if tp is Any:
        return {"type": "any"}
    return {"type": PRIMITIVES[tp]}


def _validators(validator: Any) -> list[Any]:
    if validator is None:
        return []
    if isinstance(validator, (list, tuple)):
        return [x for item in validator for x in _validators(item)]
    inner = getattr(validator, "_validators", None)  # and_
    if inner is not None:
        return _validators(list(inner))
    if hasattr(validator, "validator") and type(validator).__name__ == "_OptionalValidator":
        return _validators(validator.validator)
    return [validator]


def model_constraints(field: attrs.Attribute) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for validator in _validators(field.validator):
        kind = type(validator).__name__
        if kind == "_MinLengthValidator":
            found["minLength"] = validator.min_length
        elif kind == "_MaxLengthValidator":
            found["maxLength"] = validator.max_length
        elif kind == "_MatchesReValidator":
            found["pattern"] = validator.pattern.pattern
        elif kind == "_NumberValidator" and validator.compare_op == ">=":
            found["minimum"] = validator.bound
        elif kind == "_NumberValidator" and validator.compare_op == "<=":
            found["maximum"] = validator.bound
        else:
            raise AssertionError(f"{field.name}: validator {validator!r} has no schema keyword")
    return found


def json_name(field: attrs.Attribute) -> str:
    return field.metadata.get("json", field.name)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_model_fields_match_schema(name: str) -> None:
    cls = SCHEMAS[name]
    attrs.resolve_types(cls)
    schema = flattened(name)
    fields = {json_name(f): f for f in attrs.fields(cls)}
    assert set(fields) == set(schema["properties"]), "field names"
    required = {n for n, f in fields.items() if f.default is attrs.NOTHING}
    assert required == schema["required"], "required fields"
    for field_name, field in fields.items():
        prop = schema["properties"][field_name]
        assert model_shape(field.type) == spec_shape(prop), f"type of {field_name}"
        assert model_constraints(field) == spec_constraints(prop), f"constraints of {field_name}"
        if field_name not in schema["required"]:
            assert type(None) in get_args(field.type), f"{field_name} is optional: allow None"


def test_every_body_schema_has_a_model() -> None:
    bodies = {name for name in COMPONENTS if is_model_schema(name)} - PARTS
    assert bodies == set(SCHEMAS)


def test_drift_is_detected() -> None:
    """The comparison itself: a model with a renamed field or a wrong type does not pass."""

    @attrs.frozen
    class Renamed:
        content: str
        media: str

    fields = {json_name(f) for f in attrs.fields(Renamed)}
    assert fields != set(flattened("UploadResponse")["properties"])
    assert model_shape(int) != spec_shape(COMPONENTS["UploadResponse"]["properties"]["content"])
    assert model_shape(list[str]) != spec_shape({"type": "array", "items": {"type": "integer"}})


# --- the converter ------------------------------------------------------------------------


def test_round_trip_with_json_names() -> None:
    data = {
        "@context": "http://purl.org/iscc/context/0.8.0.jsonld",
        "@type": "ImageObject",
        "$schema": "http://purl.org/iscc/schema/0.8.0.json",
        "iscc": "ISCC:KECXNDSZVTTX2LDQYNBTBHR4T2HGOYBAGBNWZ767PKO3JQGZ42GFEAY",
        "name": "test image",
        "mode": "image",
        "filename": "test-image.jpg",
        "filesize": 53256,
        "mediatype": "image/jpeg",
        "width": 200,
        "height": 133,
        "generator": "iscc-sdk - v0.9.7",
        "datahash": "1e209db4c0d9e68c5203dc8c2fefe52fa5d54671be3a3253e06888cace7c60e5a743",
        "units": ["ISCC:AADXNDSZVTTX2LDQWWLJUWUK3DGIQV27EFWEUI2AEXNONCRDWUSE2OY"],
        "features": [{"maintype": "content", "subtype": "text", "version": 0,
                      "byte_offsets": True, "simprints": ["x"], "offsets": [0], "sizes": [3]}],
        "media_id": "061knt35ejv6o",
        "content": "http://localhost:8000/api/v1/media/061knt35ejv6o",
    }
    model = load(IsccMetadata, data)
    assert model.type_ == "ImageObject"
    assert model.features
    assert model.features[0].sizes == [3]
    assert dump(model) == data


@pytest.mark.parametrize(
    ("cls", "data"),
    [
        (SimprintRequest, {"text": 1}),  # cattrs alone would make this "1"
        (SimprintRequest, {"text": ""}),
        (SimprintRequest, {}),
        (SimprintRequest, ["text"]),
        (InlineMetadata, {"name": "x" * 129}),
        (InlineMetadata, {"keywords": [1]}),
        (InlineMetadata, {"name": True}),
        (UploadResponse, {"content": "c", "media_id": "NOT-AN-ID"}),
        (Problem, {"type": "about:blank", "title": "OK", "status": 200, "detail": ""}),
        (Problem, {"type": "about:blank", "title": "x", "status": "400", "detail": ""}),
    ],
)
def test_invalid_bodies_are_bad_requests(cls: type, data: Any) -> None:
    with pytest.raises(BadRequest):
        load(cls, data)


def test_optional_fields_are_left_out() -> None:
    assert dump(SimprintResponse(CONTENT_TEXT_V0=["a"])) == {"CONTENT_TEXT_V0": ["a"]}
    assert dump(load(InlineMetadata, {"keywords": "a, b", "other": 1})) == {"keywords": "a, b"}


# --- live bodies fit the models -----------------------------------------------------------


async def test_live_bodies_load_into_the_models(client) -> None:
    explained = await client.get(
        "/api/v1/explain/ISCC:KMDMRJYGHHVRCZ5TM6U4G6D4MXA6LAXC4ZRPOKFU7JBEQXR2BJOS6NA")
    detail = load(IsccDetail, await explained.get_json())
    assert dump(detail) == await explained.get_json()
    uploaded = await client.post("/api/v1/media", data=b"hello",
                                 headers={"X-Upload-Filename": "eC50eHQ="})
    assert dump(load(UploadResponse, await uploaded.get_json())) == await uploaded.get_json()
    missing = await client.get("/api/v1/media/0000000000000")
    assert load(Problem, await missing.get_json()).status == 404
    inside = {"client": ("127.0.0.1", 1)}  # status_networks see the storage counts
    status = load(Status, await (await client.get("/api/v1/-/status", scope_base=inside))
                  .get_json())
    assert status.version
    assert status.storage.packages == 1
