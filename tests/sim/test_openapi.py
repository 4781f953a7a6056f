"""Every simulated response conforms to cml-openapi-2.9.json, and auth works as documented."""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp
import pytest
import yaml

from cmltui.sim import SimulatedFleet
from cmltui.sim.cml_licence import REGISTRATION_S
from tests.sim.sim_helpers import (
    API,
    assert_valid,
    client_ssl,
    documented_query,
    documented_response,
    get_json,
    login,
    operation,
    request_validator,
    require_openapi,
    response_validator,
    schema_validator,
)

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
    topology = schema_validator("Topology")
    assert not topology.is_valid({"lab": {"title": "no version"}, "nodes": [], "links": []})
    states = response_validator("/labs/{lab_id}/lab_element_state", "get", "200")
    node = "9f1c6c1e-2b7a-4c1e-9a55-0c6f3f3a2b10"
    assert not states.is_valid({"nodes": {node: "RUNNING"}, "links": {}, "interfaces": {}})
    assert documented_response("/labs/{lab_id}/start", "put", 204) is None


# ----- every operation served, requests and responses -------------------------------------------

IMPORTED = """
lab: {title: Conformance, description: checked against the OpenAPI, notes: '', version: 0.3.0}
nodes:
  - id: n0
    label: r1
    node_definition: csr1000v
    x: 0
    y: 0
    interfaces: [{id: i0, label: GigabitEthernet1, slot: 0, type: physical}]
  - id: n1
    label: ext
    node_definition: external_connector
    x: 100
    y: 0
    interfaces: [{id: i0, label: port, slot: 0, type: physical}]
  - id: n2
    label: sw
    node_definition: unmanaged_switch
    x: 0
    y: 100
    interfaces:
      - {id: i0, label: port0, slot: 0, type: physical}
      - {id: i1, label: port1, slot: 1, type: physical}
  - id: n3
    label: srv
    node_definition: ubuntu
    x: 100
    y: 100
    interfaces: [{id: i0, label: ens2, slot: 0, type: physical}]
links:
  - {id: l0, n1: n0, i1: i0, n2: n1, i2: i0}
  - {id: l1, n1: n2, i1: i1, n2: n3, i2: i0}
"""


class Conformance:
    """Calls operations, checks each request and response against the OpenAPI, records them."""

    def __init__(self, session: aiohttp.ClientSession, url: str, ctx: ssl.SSLContext) -> None:
        self.session, self.url, self.ctx = session, url, ctx
        self.token: str | None = None
        self.seen: set[tuple[str, str]] = set()

    async def call(
        self,
        method: str,
        template: str,
        *,
        ids: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
        raw: str | None = None,
        expect: int = 200,
        token: str | bool | None = True,
    ) -> Any:
        m = method.lower()
        assert set(query or {}) <= documented_query(template, m), (template, query)
        if body is not None:
            assert_valid(request_validator(template, m), body, f"request {method} {template}")
        if raw is not None:
            parsed = yaml.safe_load(raw)
            assert_valid(request_validator(template, m), parsed, f"request {method} {template}")
        bearer = self.token if token is True else token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        async with self.session.request(
            method,
            f"{self.url}{API}{template.format(**(ids or {}))}",
            params=query,
            json=body,
            data=raw,
            headers=headers,
            ssl=self.ctx,
        ) as r:
            status, text, ctype = r.status, await r.text(), r.content_type
        assert status == expect, (method, template, status, text[:300])
        validator = documented_response(template, m, status)
        what = f"{method} {template} {status}"
        if validator is None:
            assert text == "", what
            result: Any = None
        elif ctype == "application/json":
            result = json.loads(text)
            assert_valid(validator, result, what)
        else:  # the YAML download: documented as a string, and it is a Topology
            assert_valid(validator, text, what)
            result = yaml.safe_load(text)
            assert_valid(schema_validator("Topology"), result, f"{what} as Topology")
        self.seen.add((method, template))
        return result


async def test_every_served_operation_conforms(fleet: SimulatedFleet) -> None:
    require_openapi()
    served = fleet.cml_operations
    for method, path in served:  # every one is a documented CML 2.9 operation
        operation(path, method.lower())
    w = fleet.worker("cml-busy-01")
    clock: Any = fleet.clock
    async with aiohttp.ClientSession() as session:
        c = Conformance(session, w.cml_url, client_ssl(fleet.ca_file))
        c.token = await c.call(
            "POST",
            "/authenticate",
            body={"username": fleet.cml_username, "password": fleet.cml_password},
            token=None,
        )
        await c.call("GET", "/system_information", token=None)
        for path in AUTHED:
            await c.call("GET", path)
        seeded = await c.call("GET", "/labs", query={"show_all": "true"})
        lab = {"lab_id": seeded[0]}

        # A seeded lab: its topology, nodes, links and states.
        topo = await c.call(
            "GET", "/labs/{lab_id}/topology", ids=lab, query={"exclude_configurations": "true"}
        )
        assert topo["nodes"] and topo["links"]
        detail = await c.call("GET", "/labs/{lab_id}", ids=lab)
        assert len(topo["nodes"]) == detail["node_count"]
        assert len(topo["links"]) == detail["link_count"]
        node_ids = await c.call("GET", "/labs/{lab_id}/nodes", ids=lab)
        nodes = await c.call("GET", "/labs/{lab_id}/nodes", ids=lab, query={"data": "true"})
        assert [n["id"] for n in nodes] == node_ids
        node = {**lab, "node_id": node_ids[0]}
        await c.call("GET", "/labs/{lab_id}/nodes/{node_id}", ids=node)
        await c.call("GET", "/labs/{lab_id}/nodes/{node_id}/state", ids=node)
        await c.call("GET", "/labs/{lab_id}/nodes/{node_id}/check_if_converged", ids=node)
        link_ids = await c.call("GET", "/labs/{lab_id}/links", ids=lab)
        await c.call("GET", "/labs/{lab_id}/links", ids=lab, query={"data": "true"})
        await c.call("GET", "/labs/{lab_id}/links/{link_id}", ids={**lab, "link_id": link_ids[0]})
        await c.call("GET", "/labs/{lab_id}/lab_element_state", ids=lab)
        await c.call("GET", "/labs/{lab_id}/simulation_stats", ids=lab)
        await c.call("GET", "/labs/{lab_id}/state", ids=lab)
        await c.call("GET", "/labs/{lab_id}/check_if_converged", ids=lab)

        # Create an empty lab, import one from YAML, run it through its life.
        created = await c.call(
            "POST", "/labs", body={"title": "Empty", "description": "made by a test", "notes": ""}
        )
        assert created["state"] == "DEFINED_ON_CORE" and created["node_count"] == 0
        # ...and build it element by element, as virl2-client's create_node/create_link do.
        empty = {"lab_id": created["id"]}
        r1 = await c.call(
            "POST",
            "/labs/{lab_id}/nodes",
            ids=empty,
            query={"populate_interfaces": "true"},
            body={"label": "r1", "node_definition": "iosv", "x": 0, "y": 0, "tags": ["core"]},
        )
        r2 = await c.call(
            "POST",
            "/labs/{lab_id}/nodes",
            ids=empty,
            body={"label": "r2", "node_definition": "alpine", "x": 80, "y": 0},
        )
        await c.call(
            "POST",
            "/labs/{lab_id}/nodes",
            ids=empty,
            body={"label": "bad", "node_definition": "no-such-def", "x": 0, "y": 0},
            expect=400,
        )
        one = await c.call("POST", "/labs/{lab_id}/interfaces", ids=empty, body={"node": r2["id"]})
        assert one["slot"] == 0 and one["is_connected"] is False
        three = await c.call(
            "POST", "/labs/{lab_id}/interfaces", ids=empty, body={"node": r2["id"], "slot": 3}
        )
        assert [i["slot"] for i in three] == [1, 2, 3]
        topo_nodes = (await c.call("GET", "/labs/{lab_id}/topology", ids=empty))["nodes"]
        r1_ifaces = next(n for n in topo_nodes if n["id"] == r1["id"])["interfaces"]
        assert len(r1_ifaces) == 4  # populated: the definition's default count
        link = await c.call(
            "POST",
            "/labs/{lab_id}/links",
            ids=empty,
            body={"src_int": r1_ifaces[0]["id"], "dst_int": one["id"]},
        )
        await c.call(
            "POST",
            "/labs/{lab_id}/links",
            ids=empty,
            body={"src_int": r1_ifaces[0]["id"], "dst_int": three[0]["id"]},
            expect=400,  # that interface is taken
        )
        built = await c.call("GET", "/labs/{lab_id}", ids=empty)
        assert (built["node_count"], built["link_count"]) == (2, 1)
        assert await c.call("GET", "/labs/{lab_id}/links", ids=empty) == [link["id"]]
        imported = await c.call("POST", "/import", query={"title": "Imported"}, raw=IMPORTED)
        new = {"lab_id": imported["id"]}
        assert (await c.call("GET", "/labs/{lab_id}", ids=new))["lab_title"] == "Imported"
        await c.call("PUT", "/labs/{lab_id}/start", ids=new, expect=204)
        await c.call("DELETE", "/labs/{lab_id}", ids=new, expect=400)  # running: refused
        await c.call("PUT", "/labs/{lab_id}/wipe", ids=new, expect=400)  # running: refused
        states = await c.call("GET", "/labs/{lab_id}/lab_element_state", ids=new)
        assert set(states["nodes"].values()) == {"QUEUED"}
        clock.advance(60)
        assert await c.call("GET", "/labs/{lab_id}/check_if_converged", ids=new) is True
        await c.call("GET", "/labs/{lab_id}/simulation_stats", ids=new)
        first = {**new, "node_id": (await c.call("GET", "/labs/{lab_id}/nodes", ids=new))[0]}
        await c.call("PUT", "/labs/{lab_id}/nodes/{node_id}/state/stop", ids=first, expect=204)
        assert (await c.call("GET", "/labs/{lab_id}/nodes/{node_id}/state", ids=first))[
            "state"
        ] == "STOPPED"
        await c.call("PUT", "/labs/{lab_id}/nodes/{node_id}/state/start", ids=first, expect=204)
        await c.call("PUT", "/labs/{lab_id}/stop", ids=new, expect=204)
        await c.call("PUT", "/labs/{lab_id}/wipe", ids=new, expect=204)
        exported = await c.call("GET", "/labs/{lab_id}/download", ids=new)
        assert [n["node_definition"] for n in exported["nodes"]] == [
            "csr1000v",
            "external_connector",
            "unmanaged_switch",
            "ubuntu",
        ]
        assert len(exported["links"]) == 2
        await c.call("DELETE", "/labs/{lab_id}", ids=new, expect=204)
        await c.call("GET", "/labs/{lab_id}", ids=new, expect=404)
        await c.call("GET", "/labs/{lab_id}/state", ids=new, expect=404)
        await c.call("DELETE", "/labs/{lab_id}", ids={"lab_id": created["id"]}, expect=204)

        # Bad topologies: a documented 400 naming the field.
        for bad, field in (
            ("nodes: []\nlinks: []\n", "lab"),
            (IMPORTED.replace("csr1000v", "nonsense-def"), "nodes[0].node_definition"),
            (IMPORTED.replace("i2: i0}", "i2: i9}"), "links[0].i2"),
            ("{unclosed", "body"),
        ):
            async with session.post(
                f"{c.url}{API}/import",
                data=bad,
                headers={"Authorization": f"Bearer {c.token}"},
                ssl=c.ctx,
            ) as r:
                assert r.status == 400
                error = await r.json()
            assert_valid(response_validator("/import", "post", "400"), error, "import 400")
            assert field in error["description"]

        # Node definitions and system management.
        defs = await c.call("GET", "/node_definitions")
        assert {d["id"] for d in defs} >= {
            "iosv",
            "iosvl2",
            "csr1000v",
            "alpine",
            "ubuntu",
            "external_connector",
            "unmanaged_switch",
        }
        await c.call("GET", "/node_definitions/{def_id}", ids={"def_id": "iosv"})
        await c.call("GET", "/node_definitions/{def_id}", ids={"def_id": "nope"}, expect=404)
        hosts = await c.call("GET", "/system/compute_hosts")
        assert len(hosts) == w.spec.compute_count
        await c.call("GET", "/system/notices")
        await c.call("GET", "/system/maintenance_mode")

        # Licence registration (a registered worker) and deregistration, as CML answers them.
        registered = await c.call("GET", "/licensing")
        assert registered["registration"]["status"] == "COMPLETED"
        register = "/licensing/registration"
        bad = await c.call("POST", register, body={"token": "bad"}, expect=400)
        assert "Invalid registration token" in bad["description"]
        await c.call("POST", register, body={"token": "T0ken-1"}, expect=409)  # registered
        await c.call("DELETE", "/licensing/deregistration", expect=204)
        assert (await c.call("GET", "/licensing"))["registration"]["status"] == "UNREGISTERED"
        await c.call("DELETE", "/licensing/deregistration", expect=400)  # already
        await c.call("POST", register, body={"token": "T0ken-1", "reregister": False}, expect=204)
        busy = await c.call("POST", register, body={"token": "T0ken-1"}, expect=409)
        assert "in progress" in busy["description"]
        assert (await c.call("GET", "/licensing"))["registration"]["status"] == "IN_PROGRESS"
        await c.call("DELETE", "/licensing/deregistration", expect=409)
        clock.advance(REGISTRATION_S)
        done = await c.call("GET", "/licensing")
        assert (done["registration"]["status"], done["authorization"]["status"]) == (
            "COMPLETED",
            "AUTHORIZED",
        )

        # Log out: the token stops working.
        assert await c.call("DELETE", "/logout") is True
        await c.call("GET", "/authok", expect=401)
    missing = served - c.seen
    assert not missing, f"served but not checked: {sorted(missing)}"
