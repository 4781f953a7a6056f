"""Helpers for the simulator tests: the CML OpenAPI schemas (read from ../shared) and clients."""

from __future__ import annotations

import json
import ssl
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

OPENAPI = Path(__file__).resolve().parents[2] / ".." / "shared" / "cml-openapi-2.9.json"
SPEC_URI = "urn:cml-openapi-2.9"
API = "/api/v0"


@cache
def _spec_and_registry() -> tuple[dict[str, Any], Registry]:
    spec = json.loads(OPENAPI.read_text())
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    return spec, registry


def require_openapi() -> None:
    if not OPENAPI.is_file():
        pytest.skip(f"CML OpenAPI file not found at {OPENAPI} (it is never copied into the repo)")


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def response_validator(path: str, method: str, status: str) -> Draft202012Validator:
    """Validator for the documented JSON response, every $ref resolved through the registry."""
    require_openapi()
    spec, registry = _spec_and_registry()
    responses = spec["paths"][path][method]["responses"]
    assert status in responses, f"{method.upper()} {path} documents no {status} response"
    ref = f"{SPEC_URI}#/" + _pointer(
        "paths", path, method, "responses", status, "content", "application/json", "schema"
    )
    return Draft202012Validator(
        {"$ref": ref}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def operation(path: str, method: str) -> dict[str, Any]:
    """The OpenAPI operation object (fails when the spec does not document it)."""
    require_openapi()
    spec, _ = _spec_and_registry()
    assert path in spec["paths"], f"{path} is not in the CML OpenAPI"
    assert method in spec["paths"][path], f"{method.upper()} {path} is not in the CML OpenAPI"
    return spec["paths"][path][method]


def documented_response(path: str, method: str, status: int) -> Draft202012Validator | None:
    """Validator for `status`'s JSON body (the `default` one when the status is not listed);
    None when the documented response has no body (204)."""
    responses = operation(path, method)["responses"]
    key = str(status) if str(status) in responses else "default"
    assert key in responses, f"{method.upper()} {path} documents neither {status} nor default"
    content = responses[key].get("content") or {}
    if "application/json" not in content:
        return None
    _, registry = _spec_and_registry()
    ref = f"{SPEC_URI}#/" + _pointer(
        "paths", path, method, "responses", key, "content", "application/json", "schema"
    )
    return Draft202012Validator(
        {"$ref": ref}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def request_validator(path: str, method: str) -> Draft202012Validator:
    """Validator for the documented JSON request body."""
    op = operation(path, method)
    assert "requestBody" in op, f"{method.upper()} {path} documents no request body"
    _, registry = _spec_and_registry()
    ref = f"{SPEC_URI}#/" + _pointer(
        "paths", path, method, "requestBody", "content", "application/json", "schema"
    )
    return Draft202012Validator(
        {"$ref": ref}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def documented_query(path: str, method: str) -> set[str]:
    return {
        p["name"] for p in operation(path, method).get("parameters", []) if p.get("in") == "query"
    }


def schema_validator(name: str) -> Draft202012Validator:
    require_openapi()
    _, registry = _spec_and_registry()
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def assert_valid(validator: Draft202012Validator, body: Any, what: str) -> None:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what}: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]
    )


def client_ssl(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


async def login(
    session: aiohttp.ClientSession, url: str, username: str, password: str, ctx: ssl.SSLContext
) -> str:
    async with session.post(
        f"{url}{API}/authenticate", json={"username": username, "password": password}, ssl=ctx
    ) as r:
        assert r.status == 200, await r.text()
        token = await r.json()
    assert isinstance(token, str)
    return token


async def get_json(
    session: aiohttp.ClientSession, url: str, path: str, token: str | None, ctx: ssl.SSLContext
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.get(f"{url}{API}{path}", headers=headers, ssl=ctx) as r:
        return r.status, await r.json()


def make_core(fleet: Any, tmp_path: Path, **config_updates: Any) -> Any:
    """The real core over `fleet`, built as tests/backends/direct/sim_core.py builds it."""
    from tests.backends.direct.sim_core import make_core as integration_make_core

    return integration_make_core(fleet, tmp_path, **config_updates)


async def run_while_clock_moves(
    fleet: Any, fn: Any, *args: Any, step_s: float = 0.5, pause_s: float = 0.01
) -> Any:
    """Run blocking `fn` (a client script) in a thread while the fleet's ManualClock moves on.

    Each `pause_s` of wall time moves the simulated clock by `step_s`, so a script that polls
    for convergence sees nodes boot within a second or two of wall time.
    """
    import asyncio

    task = asyncio.create_task(asyncio.to_thread(fn, *args))
    while not task.done():
        fleet.clock.advance(step_s)
        await asyncio.sleep(pause_s)
    return await task
