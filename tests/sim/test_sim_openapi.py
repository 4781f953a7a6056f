"""Every simulated response conforms to cml-openapi-2.9.json, and auth works as documented."""

from __future__ import annotations

import aiohttp
import pytest
from sim_helpers import (
    API,
    assert_valid,
    client_ssl,
    get_json,
    login,
    require_openapi,
    response_validator,
)

from cmltui.sim import SimulatedFleet

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUTHED = [
    "/authok",
    "/system_health",
    "/system_stats",
    "/labs",
    "/licensing",
    "/users",
    "/telemetry/events",
]
ANSWERING = [
    "cml-busy-01",
    "cml-labs-02",
    "cml-idle-03",
    "cml-snooze-04",
    "cml-nearpause-05",
    "cml-degraded-08",
    "cml-noagent-09",
    "cml-eval-10",
    "cml-expired-11",
    "cml-unreg-12",
]


async def test_every_worker_of_the_mix_conforms(fleet: SimulatedFleet) -> None:
    require_openapi()
    ctx = client_ssl(fleet.ca_file)
    async with aiohttp.ClientSession() as session:
        for name in ANSWERING:
            w = fleet.worker(name)
            url = w.cml_url
            token = login_body = await login(
                session, url, fleet.cml_username, fleet.cml_password, ctx
            )
            assert_valid(
                response_validator("/authenticate", "post", "200"),
                login_body,
                f"{name} /authenticate",
            )
            status, body = await get_json(session, url, "/system_information", None, ctx)
            assert status == 200
            assert_valid(
                response_validator("/system_information", "get", "200"),
                body,
                f"{name} /system_information",
            )
            bodies = {}
            for path in AUTHED:
                status, body = await get_json(session, url, path, token, ctx)
                assert status == 200, (name, path, body)
                assert_valid(response_validator(path, "get", "200"), body, f"{name} {path}")
                bodies[path] = body
            status, body = await get_json(session, url, "/labs?show_all=true", token, ctx)
            assert status == 200
            assert_valid(response_validator("/labs", "get", "200"), body, f"{name} /labs all")
            lab_ids = body
            assert set(bodies["/labs"]) <= set(lab_ids)
            assert len(lab_ids) == w.spec.lab_count > 0
            for lab_id in lab_ids:
                for suffix, path in (
                    ("", "/labs/{lab_id}"),
                    ("/topology", "/labs/{lab_id}/topology"),
                ):
                    status, body = await get_json(
                        session, url, f"/labs/{lab_id}{suffix}", token, ctx
                    )
                    assert status == 200
                    assert_valid(response_validator(path, "get", "200"), body, f"{name} {path}")
            # Non-empty where the worker has them.
            stats = bodies["/system_stats"]
            assert len(stats["computes"]) == w.spec.compute_count >= 1
            assert len(bodies["/system_health"]["computes"]) == w.spec.compute_count
            assert bodies["/users"] and bodies["/telemetry/events"]
            assert any(u["id"].startswith("00000000-0000-") for u in bodies["/users"])


async def test_health_and_licensing_differ_as_the_mix_says(fleet: SimulatedFleet) -> None:
    ctx = client_ssl(fleet.ca_file)
    expected = {
        "cml-busy-01": ("COMPLETED", "AUTHORIZED", True),
        "cml-degraded-08": ("COMPLETED", "AUTHORIZED", False),
        "cml-eval-10": ("UNREGISTERED", "EVAL", True),
        "cml-expired-11": ("UNREGISTERED", "EVAL_EXPIRED", True),
        "cml-unreg-12": ("UNREGISTERED", "NOT_AUTHORIZED", True),
    }
    async with aiohttp.ClientSession() as session:
        for name, (reg, auth, valid) in expected.items():
            url = fleet.worker(name).cml_url
            token = await login(session, url, fleet.cml_username, fleet.cml_password, ctx)
            _, lic = await get_json(session, url, "/licensing", token, ctx)
            assert (lic["registration"]["status"], lic["authorization"]["status"]) == (reg, auth)
            _, health = await get_json(session, url, "/system_health", token, ctx)
            assert health["valid"] is valid
            if not valid:
                assert any(not c["valid"] for c in health["computes"].values())
        _, lic = await get_json(
            session,
            fleet.worker("cml-unreg-12").cml_url,
            "/licensing",
            await login(
                session,
                fleet.worker("cml-unreg-12").cml_url,
                fleet.cml_username,
                fleet.cml_password,
                ctx,
            ),
            ctx,
        )
        assert lic["registration"]["register_time"]["succeeded"] is None


async def test_auth_is_enforced_as_documented(fleet: SimulatedFleet) -> None:
    require_openapi()
    ctx = client_ssl(fleet.ca_file)
    url = fleet.worker("cml-labs-02").cml_url
    error_401 = response_validator("/authok", "get", "401")
    async with aiohttp.ClientSession() as session:
        for path in [*AUTHED, "/labs/00000000-0000-4000-8000-000000000000"]:
            for token in (None, "not.a.token", "aaa.bbb.ccc"):
                status, body = await get_json(session, url, path, token, ctx)
                assert status == 401, (path, token)
                assert_valid(error_401, body, f"401 {path}")
        # Basic auth or a bare token is not Bearer.
        async with session.get(
            f"{url}{API}/system_stats", ssl=ctx, headers={"Authorization": "Basic YWRtaW46eA=="}
        ) as r:
            assert r.status == 401
        # Bad credentials: 403 with an ErrorResponse body.
        async with session.post(
            f"{url}{API}/authenticate", ssl=ctx, json={"username": "admin", "password": "wrong"}
        ) as r:
            assert r.status == 403
            assert_valid(
                response_validator("/authenticate", "post", "403"),
                await r.json(),
                "403 authenticate",
            )
        # /system_information needs no token; a good token opens the rest.
        status, _ = await get_json(session, url, "/system_information", None, ctx)
        assert status == 200
        token = await login(session, url, fleet.cml_username, fleet.cml_password, ctx)
        status, body = await get_json(session, url, "/authok", token, ctx)
        assert status == 200
        # Unknown lab: documented 404.
        status, body = await get_json(
            session, url, "/labs/00000000-0000-4000-8000-000000000000", token, ctx
        )
        assert status == 404
        assert_valid(response_validator("/labs/{lab_id}", "get", "404"), body, "404 lab")


async def test_token_expires_on_the_clock(fleet: SimulatedFleet) -> None:
    from cmltui.sim import Fault

    ctx = client_ssl(fleet.ca_file)
    w = fleet.worker("cml-eval-10")
    fleet.set_fault(w.name, Fault.TOKEN_EXPIRY, ttl_s=30)
    try:
        async with aiohttp.ClientSession() as session:
            before = w.login_count
            token = await login(session, w.cml_url, fleet.cml_username, fleet.cml_password, ctx)
            assert (await get_json(session, w.cml_url, "/system_stats", token, ctx))[0] == 200
            fleet.clock.advance(31)  # type: ignore[attr-defined]
            status, body = await get_json(session, w.cml_url, "/system_stats", token, ctx)
            assert status == 401 and body["code"] == 401
            token = await login(session, w.cml_url, fleet.cml_username, fleet.cml_password, ctx)
            assert (await get_json(session, w.cml_url, "/system_stats", token, ctx))[0] == 200
            assert w.login_count == before + 2
    finally:
        fleet.set_fault(w.name, None)


async def test_the_validators_are_not_vacuous() -> None:
    """Guard: the resolved schemas do reject bodies that break them."""
    info = response_validator("/system_information", "get", "200")
    assert not info.is_valid({"version": "2.9.0"})
    assert not info.is_valid(
        {"version": "2.9.0", "ready": True, "allow_ssh_pubkey_auth": True, "oui": None, "extra": 1}
    )
    labs = response_validator("/labs", "get", "200")
    assert not labs.is_valid(["not-a-uuid"])
    stats = response_validator("/system_stats", "get", "200")
    assert not stats.is_valid({"all": {"cpu": {"percent": 150}, "memory": {}, "disk": {}}})
    events = response_validator("/telemetry/events", "get", "200")
    assert not events.is_valid([{"category": "nonsense", "timestamp": "x", "data": {}}])
