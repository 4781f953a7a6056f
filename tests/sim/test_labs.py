"""Labs behave on the simulated clock: nodes queue, start and boot; stop and wipe reverse it;
stats, compute hosts and licence counts follow the booted nodes. Seeded data is plausible."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from cmltui.sim import SimulatedFleet
from cmltui.sim.cml_topology import NODE_DEFINITIONS, QUEUE_STEP_S
from tests.sim.sim_helpers import API, client_ssl, get_json, login

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOPOLOGY = """
lab: {title: Timing, version: 0.3.0}
nodes:
  - {id: a, label: alpine-0, node_definition: alpine, x: 0, y: 0,
     interfaces: [{id: e0, type: physical}]}
  - {id: b, label: iosv-0, node_definition: iosv, x: 50, y: 0,
     interfaces: [{id: g0, type: physical}, {id: g1, type: physical}]}
  - {id: c, label: ubuntu-0, node_definition: ubuntu, x: 100, y: 0,
     interfaces: [{id: e0, type: physical}]}
links:
  - {id: l0, n1: a, i1: e0, n2: b, i2: g0}
  - {id: l1, n1: b, i1: g1, n2: c, i2: e0}
"""


class Api:
    def __init__(self, session: aiohttp.ClientSession, fleet: SimulatedFleet, name: str) -> None:
        self.session, self.fleet = session, fleet
        self.url = fleet.worker(name).cml_url
        self.ctx = client_ssl(fleet.ca_file)
        self.token = ""

    async def login(self) -> None:
        self.token = await login(
            self.session, self.url, self.fleet.cml_username, self.fleet.cml_password, self.ctx
        )

    async def get(self, path: str) -> Any:
        status, body = await get_json(self.session, self.url, path, self.token, self.ctx)
        assert status == 200, (path, body)
        return body

    async def send(self, method: str, path: str, data: str | None = None) -> tuple[int, Any]:
        async with self.session.request(
            method,
            f"{self.url}{API}{path}",
            data=data,
            headers={"Authorization": f"Bearer {self.token}"},
            ssl=self.ctx,
        ) as r:
            text = await r.text()
            return r.status, (await r.json()) if text and r.content_type.endswith("json") else text


async def test_nodes_boot_over_simulated_seconds_and_stop_and_wipe_reverse_it(
    fleet: SimulatedFleet,
) -> None:
    clock: Any = fleet.clock
    async with aiohttp.ClientSession() as session:
        api = Api(session, fleet, "cml-eval-10")
        await api.login()
        stats0 = await api.get("/system_stats")
        lic0 = await api.get("/licensing")
        status, imported = await api.send("POST", "/import", TOPOLOGY)
        assert status == 200
        lab_id = imported["id"]
        base = f"/labs/{lab_id}"
        labels = {n["id"]: n["label"] for n in await api.get(f"{base}/nodes?data=true")}

        async def states() -> dict[str, str]:
            body = await api.get(f"{base}/lab_element_state")
            return {labels[k]: v for k, v in body["nodes"].items()}

        assert set((await states()).values()) == {"DEFINED_ON_CORE"}
        assert await api.get(f"{base}/state") == "DEFINED_ON_CORE"
        assert (await api.send("PUT", f"{base}/start"))[0] == 204
        start = clock.now()
        assert await states() == dict.fromkeys(("alpine-0", "iosv-0", "ubuntu-0"), "QUEUED")
        assert await api.get(f"{base}/state") == "STARTED"
        assert await api.get(f"{base}/check_if_converged") is False
        # The launch queue starts one node per second; each boots in its definition's time.
        clock.advance(QUEUE_STEP_S + 0.1)
        assert (await states())["alpine-0"] == "STARTED"
        assert (await states())["iosv-0"] == "QUEUED"
        clock.advance(NODE_DEFINITIONS["alpine"].boot_s)
        assert (await states())["alpine-0"] == "BOOTED"
        assert await api.get(f"{base}/check_if_converged") is False
        last_boot = max(
            (k + 1) * QUEUE_STEP_S + NODE_DEFINITIONS[d].boot_s
            for k, d in enumerate(("alpine", "iosv", "ubuntu"))
        )
        clock.set(start + timedelta(seconds=last_boot - 0.5))
        assert await api.get(f"{base}/check_if_converged") is False
        clock.advance(0.5)
        assert set((await states()).values()) == {"BOOTED"}
        assert await api.get(f"{base}/check_if_converged") is True
        elements = await api.get(f"{base}/lab_element_state")
        assert set(elements["links"].values()) == {"STARTED"}
        assert set(elements["interfaces"].values()) == {"STARTED"}

        # Loads and counts follow the booted nodes.
        stats1 = await api.get("/system_stats")
        running = sum(c["stats"]["dominfo"]["running_nodes"] for c in stats1["computes"].values())
        running0 = sum(c["stats"]["dominfo"]["running_nodes"] for c in stats0["computes"].values())
        assert running == running0 + 3
        mem = stats1["all"]["memory"]["used"] / stats1["all"]["memory"]["total"]
        mem0 = stats0["all"]["memory"]["used"] / stats0["all"]["memory"]["total"]
        assert mem > mem0
        hosts = await api.get("/system/compute_hosts")
        assert sum(h["node_counts"]["running_nodes"] for h in hosts) == running
        lic1 = await api.get("/licensing")
        assert lic1["features"][0]["in_use"] == lic0["features"][0]["in_use"] + 3

        # Stop one node, then the lab; wipe; each reverses the state.
        node_b = next(k for k, v in labels.items() if v == "iosv-0")
        assert (await api.send("PUT", f"{base}/nodes/{node_b}/state/stop"))[0] == 204
        assert (await states())["iosv-0"] == "STOPPED"
        assert await api.get(f"{base}/state") == "STARTED"  # two nodes still run
        assert (await api.send("PUT", f"{base}/stop"))[0] == 204
        assert set((await states()).values()) == {"STOPPED"}
        assert await api.get(f"{base}/state") == "STOPPED"
        assert await api.get(f"{base}/check_if_converged") is True
        stats2 = await api.get("/system_stats")
        assert (
            sum(c["stats"]["dominfo"]["running_nodes"] for c in stats2["computes"].values())
            == running0
        )
        assert (await api.send("PUT", f"{base}/wipe"))[0] == 204
        assert set((await states()).values()) == {"DEFINED_ON_CORE"}
        assert (await api.send("DELETE", base))[0] == 204
        assert lab_id not in await api.get("/labs?show_all=true")


async def test_a_node_stopped_while_booting_never_reports_boot(fleet: SimulatedFleet) -> None:
    clock: Any = fleet.clock
    async with aiohttp.ClientSession() as session:
        api = Api(session, fleet, "cml-expired-11")
        await api.login()
        _, imported = await api.send("POST", "/import", TOPOLOGY)
        base = f"/labs/{imported['id']}"
        await api.send("PUT", f"{base}/start")
        clock.advance(QUEUE_STEP_S + 0.5)  # alpine started, not booted
        await api.send("PUT", f"{base}/stop")
        clock.advance(120)
        events = [
            e
            for e in await api.get("/telemetry/events")
            if e["data"].get("lab_id") == imported["id"]
        ]
        categories = [e["category"] for e in events]
        assert categories.count("start_node") == 1  # only alpine got started
        assert "boot_node" not in categories
        assert categories.count("stop_node") == 3


async def test_seeded_labs_have_the_nodes_their_details_count(fleet: SimulatedFleet) -> None:
    async with aiohttp.ClientSession() as session:
        api = Api(session, fleet, "cml-labs-02")
        await api.login()
        for lab_id in await api.get("/labs?show_all=true"):
            detail = await api.get(f"/labs/{lab_id}")
            nodes = await api.get(f"/labs/{lab_id}/nodes?data=true")
            links = await api.get(f"/labs/{lab_id}/links")
            assert (len(nodes), len(links)) == (detail["node_count"], detail["link_count"])
            states = {n["state"] for n in nodes}
            expected = {"STARTED": {"BOOTED"}, "STOPPED": {"STOPPED"}}
            assert states == expected.get(detail["state"], {"DEFINED_ON_CORE"})
            assert await api.get(f"/labs/{lab_id}/state") == detail["state"]


async def test_no_date_in_the_future_and_version_matches_the_ami(fleet: SimulatedFleet) -> None:
    import boto3

    ec2 = boto3.client(
        "ec2",
        endpoint_url=fleet.aws_endpoint_url,
        region_name=fleet.region,
        **fleet.aws_credentials,
    )
    images = {i["ImageId"]: i["Name"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    reservations = ec2.describe_instances()["Reservations"]
    ami_of = {i["InstanceId"]: i["ImageId"] for r in reservations for i in r["Instances"]}
    now = fleet.clock.now()
    async with aiohttp.ClientSession() as session:
        for w in fleet.workers:
            if not w.endpoint.listening:
                continue
            api = Api(session, fleet, w.name)
            await api.login()
            version = (await api.get("/system_information"))["version"]
            assert images[ami_of[w.instance_id]].startswith(f"cml-{version}-"), w.name
            for lab_id in await api.get("/labs?show_all=true"):
                lab = await api.get(f"/labs/{lab_id}")
                for key in ("created", "modified"):
                    assert datetime.fromisoformat(lab[key]) <= now, (w.name, key, lab[key])
    versions = {w.spec.cml_version for w in fleet.workers}
    assert versions == {"2.9.0", "2.9.1"}  # the mix has both AMIs
