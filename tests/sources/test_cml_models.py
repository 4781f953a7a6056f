"""CML response models: checked against the OpenAPI file, tolerant of new fields, token-free."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from cmltui.sources import cml_models
from cmltui.sources.cml_models import (
    CMLModel,
    LabResponse,
    LicensingStatus,
    SystemInformation,
    SystemStats,
    TelemetryEventResponse,
)

OPENAPI = Path(__file__).resolve().parents[2] / ".." / "shared" / "cml-openapi-2.9.json"

# Response model -> the OpenAPI schema it is written from (class names follow the schemas).
MODELS: list[type[CMLModel]] = [
    obj
    for obj in vars(cml_models).values()
    if isinstance(obj, type) and issubclass(obj, CMLModel) and obj is not CMLModel
]
TOP_LEVEL = [
    "SystemInformation",
    "SystemHealth",
    "SystemStats",
    "LabResponse",
    "LicensingStatus",
    "UserResponse",
    "TelemetryEventResponse",
]


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    if not OPENAPI.is_file():
        pytest.skip(f"CML OpenAPI file not found at {OPENAPI} (it is not shipped with cmltui)")
    doc: dict[str, Any] = json.loads(OPENAPI.read_text())
    return doc


def _example(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    """An example-like value for a schema: its examples, else a plausible value of its type."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _example(doc, doc["components"]["schemas"][name])
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("default") is not None:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        variants = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _example(doc, variants[0])
    kind = schema.get("type")
    if kind == "object":
        value = {k: _example(doc, v) for k, v in schema.get("properties", {}).items()}
        for sub in schema.get("patternProperties", {}).values():
            value["90f84e38-a71c-4d57-8d90-00fa8a197385"] = _example(doc, sub)
        return value
    if kind == "array":
        return [_example(doc, schema.get("items", {}))]
    if kind == "string":
        return "2026-11-28T10:00:00+00:00" if schema.get("format") == "date-time" else "text"
    if kind == "integer":
        return int(schema.get("minimum", 3))
    if kind == "number":
        return 42.5
    if kind == "boolean":
        return True
    return None


def _assert_fields_taken(model: BaseModel, body: dict[str, Any], where: str) -> None:
    """Every declared field that the body carries arrived in the model (no silent misses)."""
    for name in type(model).model_fields:
        if body.get(name) is None:
            continue
        value = getattr(model, name)
        assert value is not None, f"{where}.{name} was sent but not parsed"
        if isinstance(value, BaseModel):
            _assert_fields_taken(value, body[name], f"{where}.{name}")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_declared_fields_exist_in_the_openapi_schema(
    openapi: dict[str, Any], model: type[CMLModel]
) -> None:
    schemas = openapi["components"]["schemas"]
    assert model.__name__ in schemas, f"no schema {model.__name__} in the OpenAPI file"
    properties = set(schemas[model.__name__].get("properties", {}))
    assert set(model.model_fields) <= properties, set(model.model_fields) - properties


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_models_accept_example_like_bodies(openapi: dict[str, Any], name: str) -> None:
    body = _example(openapi, {"$ref": f"#/components/schemas/{name}"})
    # The generated body is itself valid against Cisco's schema, so the test means something.
    root = {"$ref": f"#/components/schemas/{name}", "components": openapi["components"]}
    jsonschema.Draft202012Validator(root).validate(body)

    model_cls: type[CMLModel] = getattr(cml_models, name)
    model = model_cls.model_validate(body)
    _assert_fields_taken(model, body, name)


def test_example_list_endpoints_parse(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    users_schema = paths["/users"]["get"]["responses"]["200"]["content"]["application/json"]
    users = cml_models.UserList.validate_python(_example(openapi, users_schema["schema"]))
    assert users[0].username == "admin"
    labs_schema = paths["/labs"]["get"]["responses"]["200"]["content"]["application/json"]
    ids = cml_models.LabIdList.validate_python(_example(openapi, labs_schema["schema"]))
    assert ids == ["90f84e38-a71c-4d57-8d90-00fa8a197385"]


def test_unknown_fields_are_ignored_and_new_enum_values_accepted() -> None:
    info = SystemInformation.model_validate({"version": "2.10.0", "ready": False, "future": 1})
    assert info.version == "2.10.0" and "future" not in info.model_dump()
    lab = LabResponse.model_validate({"id": "x", "lab_title": "t", "state": "QUEUED", "new": {}})
    assert lab.state == "QUEUED"
    event = TelemetryEventResponse.model_validate(
        {"category": "brand_new", "timestamp": "2026-11-28T10:00:00", "data": {}}
    )
    assert event.category == "brand_new"


def test_naive_timestamps_are_utc() -> None:
    event = TelemetryEventResponse.model_validate(
        {"category": "start_lab", "timestamp": "2026-11-28T10:00:00", "data": {}}
    )
    assert event.timestamp.tzinfo is UTC and event.timestamp.hour == 10


def test_missing_cpu_percent_is_none_not_zero() -> None:
    stats = SystemStats.model_validate({"all": {"cpu": {"count": 4}, "memory": None}})
    assert stats.all.cpu is not None and stats.all.cpu.percent is None
    assert stats.all.cpu.count == 4


@pytest.mark.parametrize(
    ("model", "body", "loc"),
    [
        (SystemInformation, {"ready": True}, ("version",)),
        (SystemInformation, ["2.9"], ()),
        (SystemStats, {"all": {"cpu": {"percent": "lots"}}}, ("all", "cpu", "percent")),
        (LabResponse, {"id": "x", "state": "STARTED"}, ("lab_title",)),
    ],
)
def test_malformed_bodies_raise_validation_errors(
    model: type[CMLModel], body: Any, loc: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        model.model_validate(body)
    assert excinfo.value.errors()[0]["loc"] == loc


SECRET = "SL-TOKEN-must-not-survive"


@pytest.mark.parametrize("build", [LicensingStatus.from_response, LicensingStatus.model_validate])
def test_licensing_token_is_stripped_at_any_depth(build: Any) -> None:
    body = {
        "token": SECRET,
        "id_token": SECRET,
        "registration": {"status": "COMPLETED", "token": SECRET, "smart_account": "Org"},
        "authorization": {"status": "EVAL", "expires": "2026-12-01T00:00:00+00:00"},
        "features": [{"id": "f1", "name": "node count", "registrationToken": SECRET}],
        "transport": {"proxy": {"server": None, "port": None, "auth_token": SECRET}},
        "vendor_extension": {"note": "kept", "Token": SECRET},
    }
    licensing: LicensingStatus = build(body)

    public = licensing.as_public_dict()
    texts = [json.dumps(public), repr(licensing), licensing.model_dump_json(), str(licensing)]
    assert all(SECRET not in text for text in texts)
    assert public["registration"] == {"status": "COMPLETED", "smart_account": "Org"}
    assert public["authorization"]["status"] == "EVAL"
    if build is LicensingStatus.from_response:
        # The object as CML returned it: unknown fields stay, only the tokens go.
        assert public["vendor_extension"] == {"note": "kept"}
        assert public["features"] == [{"id": "f1", "name": "node count"}]
    public["registration"]["status"] = "CHANGED"
    assert licensing.as_public_dict()["registration"]["status"] == "COMPLETED"


def test_system_stats_are_normalised_in_the_source() -> None:
    body = (
        b'{"all": {"cpu": {"count": 8, "percent": 1e400}, "memory": {"used": 2, "total": 4},'
        b' "disk": {"used": NaN, "total": 10}},'
        b' "computes": {'
        b'  "a": {"hostname": "c1", "is_controller": true, "stats": {"cpu": {"percent": 150},'
        b'   "dominfo": {"running_nodes": 3, "total_nodes": 5, "total_orphans": 9}}},'
        b'  "b": {"hostname": "c2", "stats": {"cpu": {"percent": -2, "load": [1, 2, 3]},'
        b'   "dominfo": {"running_nodes": 0, "total_nodes": 2}}}}}'
    )
    info = SystemStats.model_validate_json(body).normalised()
    assert info["cpu_count"] == 8
    assert info["cpu_percent"] is None  # 1e400 is not a finite number: None, never 0 or 100
    assert (info["memory_used"], info["memory_total"]) == (2.0, 4.0)
    assert info["disk_used"] is None and info["disk_total"] == 10.0
    assert (info["running_nodes"], info["total_nodes"]) == (3, 7)  # summed; 0 stays 0
    assert info["allocated_cpus"] is None
    assert info["computes"]["a"]["cpu_percent"] == 100.0 and info["computes"]["a"]["is_controller"]
    assert (
        info["computes"]["b"]["cpu_percent"] == 0.0 and info["computes"]["b"]["running_nodes"] == 0
    )
    assert json.loads(json.dumps(info, allow_nan=False)) == info
