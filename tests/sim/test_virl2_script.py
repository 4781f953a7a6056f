"""A CML user's script, written with the official virl2-client, run against a simulated worker.

The script logs in, imports a three-node lab from YAML, starts it and waits for convergence,
reads the node states, stops, wipes and deletes it, and logs out. Afterwards the worker's
telemetry holds what the script did, attributed to the user who logged in, and cmltui's own
collector and idle checker see the lab and the activity.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from cmltui.sim import SimulatedFleet
from tests.sim.sim_helpers import client_ssl, get_json, login, make_core, run_while_clock_moves

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]

TOPOLOGY = """
lab:
  title: Branch office
  description: two switches' worth of trouble
  notes: ''
  version: 0.3.0
nodes:
  - id: n0
    label: edge-r1
    node_definition: iosv
    x: -200
    y: 0
    configuration: hostname edge-r1
    interfaces:
      - {id: i0, label: GigabitEthernet0/0, slot: 0, type: physical}
  - id: n1
    label: access-sw1
    node_definition: iosvl2
    x: 0
    y: 0
    interfaces:
      - {id: i0, label: GigabitEthernet0/0, slot: 0, type: physical}
      - {id: i1, label: GigabitEthernet0/1, slot: 1, type: physical}
  - id: n2
    label: host-1
    node_definition: alpine
    x: 200
    y: 0
    interfaces:
      - {id: i0, label: eth0, slot: 0, type: physical}
links:
  - {id: l0, n1: n0, i1: i0, n2: n1, i2: i0}
  - {id: l1, n1: n1, i1: i1, n2: n2, i2: i0}
"""


# ----- the script, step by step (blocking: run in a thread) -------------------------------------


def log_in(url: str, username: str, password: str, ca_file: str) -> Any:
    from virl2_client import ClientLibrary

    return ClientLibrary(
        url,
        username,
        password,
        ssl_verify=ca_file,
        raise_for_auth_failure=True,
        convergence_wait_max_iter=2000,
        convergence_wait_time=0.01,
    )


def create_lab(client: Any) -> tuple[Any, dict[str, str], int, dict[str, Any]]:
    lab = client.import_lab(TOPOLOGY)
    nodes = {n.label: n.node_definition for n in lab.nodes()}
    return lab, nodes, len(lab.links()), lab.details()


def start_and_wait(lab: Any) -> str:
    lab.start(wait=True)  # PUT start, then poll check_if_converged
    return lab.state()


def node_states(lab: Any) -> dict[str, str]:
    lab.sync_states()
    return {node.label: node.state for node in lab.nodes()}


def tear_down(client: Any, lab: Any) -> tuple[str, str, list[str], bool]:
    lab.stop(wait=True)
    stopped = lab.state()
    lab.wipe(wait=True)
    wiped = lab.state()
    lab_id = lab.id
    lab.remove()
    remaining = client.get_lab_list(show_all=True)
    assert lab_id not in remaining
    return stopped, wiped, remaining, client.logout()


# ----- the test ----------------------------------------------------------------------------------


async def _telemetry(fleet: SimulatedFleet, url: str) -> tuple[list[dict[str, Any]], str]:
    ctx = client_ssl(fleet.ca_file)
    async with aiohttp.ClientSession() as session:
        token = await login(session, url, fleet.cml_username, fleet.cml_password, ctx)
        _, events = await get_json(session, url, "/telemetry/events", token, ctx)
        _, users = await get_json(session, url, "/users", token, ctx)
    admin_id = next(u["id"] for u in users if u["username"] == fleet.cml_username)
    return events, admin_id


def _dto(snapshot: Any, name: str) -> Any:
    return next(dto for dto in snapshot.workers if dto.name == name)


async def test_a_virl2_script_runs_and_makes_the_worker_active(fleet, tmp_path) -> None:
    pytest.importorskip("virl2_client")
    worker = fleet.worker("cml-idle-03")
    core = make_core(fleet, tmp_path)
    try:
        await core.collector.collect()
        await core.idle_checker.check_due()
        before = _dto(await core.collector.collect(), worker.name)
        assert before.is_idle is True and before.idle_minutes >= 170
        running_before = before.cml_system_info["running_nodes"]
        script_start: datetime = fleet.clock.now()

        # 1-2: log in, create the lab from YAML.
        client = await run_while_clock_moves(
            fleet,
            log_in,
            worker.cml_url,
            fleet.cml_username,
            fleet.cml_password,
            str(fleet.ca_file),
        )
        lab, nodes, link_count, details = await run_while_clock_moves(fleet, create_lab, client)
        lab_id = lab.id
        assert nodes == {"edge-r1": "iosv", "access-sw1": "iosvl2", "host-1": "alpine"}
        assert link_count == 2
        assert (details["node_count"], details["link_count"]) == (3, 2)
        assert details["state"] == "DEFINED_ON_CORE"
        assert details["owner_username"] == fleet.cml_username

        # 3: start and wait until converged; the clock moves while the script polls.
        assert await run_while_clock_moves(fleet, start_and_wait, lab) == "STARTED"
        # 4: every node has booted.
        states = await run_while_clock_moves(fleet, node_states, lab)
        assert states == {"edge-r1": "BOOTED", "access-sw1": "BOOTED", "host-1": "BOOTED"}

        # cmltui's labs panel and stats see the running lab.
        await fleet.sync()
        during = _dto(await core.collector.collect(), worker.name)
        mine = [lab_ for lab_ in during.labs if lab_.title == "Branch office"]
        assert len(mine) == 1 and (mine[0].state, mine[0].node_count) == ("STARTED", 3)
        assert during.active_labs_count == before.active_labs_count + 1
        assert during.cml_system_info["running_nodes"] == running_before + 3

        # 5-6: stop, wipe, delete, log out.
        tokens_before = set(worker.endpoint.tokens)
        stopped, wiped, _, logged_out = await run_while_clock_moves(fleet, tear_down, client, lab)
        assert (stopped, wiped, logged_out) == ("STOPPED", "DEFINED_ON_CORE", True)
        assert len(set(worker.endpoint.tokens) - tokens_before) == 0
        assert len(tokens_before - set(worker.endpoint.tokens)) == 1  # the script's token

        # The worker's telemetry tells what the script did, by the user who logged in.
        events, admin_id = await _telemetry(fleet, worker.cml_url)
        lab_events = [e for e in events if e["data"].get("lab_id") == lab_id]
        assert all(e["data"]["user_id"] == admin_id for e in lab_events)
        assert all(datetime.fromisoformat(e["timestamp"]) >= script_start for e in lab_events)
        assert Counter(e["category"] for e in lab_events) == {
            "import_lab": 1,
            "start_lab": 1,
            "queue_node": 3,
            "start_node": 3,
            "boot_node": 3,
            "stop_node": 3,
            "stop_lab": 1,
            "wipe_node": 3,
        }
        booted = {e["data"]["node_id"] for e in lab_events if e["category"] == "boot_node"}
        assert len(booted) == 3

        # cmltui's idle checker reads that telemetry: the worker is active again.
        await fleet.sync()
        await core.collector.collect()
        registry_worker = core.registry.get(worker.instance_id)
        assert registry_worker is not None
        await core.idle_checker.check_worker(registry_worker)
        after = _dto(await core.collector.collect(), worker.name)
        assert after.is_idle is False
        assert after.last_activity_at is not None
        assert after.last_activity_at >= script_start
        assert after.idle_minutes is not None and after.idle_minutes < 5
        assert all(lab_.title != "Branch office" for lab_ in after.labs)
    finally:
        await core.close()


def build_by_hand(client: Any) -> tuple[dict[str, str], list[tuple[str, str]], str]:
    lab = client.create_lab("Built by hand")
    r1 = lab.create_node("r1", "iosv", 0, 0, populate_interfaces=True)
    r2 = lab.create_node("r2", "csr1000v", 120, 0)  # no interfaces yet: one is created
    sw = lab.create_node("sw", "unmanaged_switch", 60, 80, populate_interfaces=True)
    lab.connect_two_nodes(r1, sw)
    lab.connect_two_nodes(r2, sw)
    lab.start(wait=True)
    states = {n.label: n.state for n in lab.nodes()}
    ends = sorted(
        (link.interface_a.node.label, link.interface_b.node.label) for link in lab.links()
    )
    yaml_text = lab.download()
    lab.stop()
    lab.wipe()
    lab.remove()
    return states, ends, yaml_text


async def test_a_lab_built_node_by_node_runs(fleet) -> None:
    pytest.importorskip("virl2_client")
    import yaml

    worker = fleet.worker("cml-unreg-12")
    client = await run_while_clock_moves(
        fleet, log_in, worker.cml_url, fleet.cml_username, fleet.cml_password, str(fleet.ca_file)
    )
    states, ends, yaml_text = await run_while_clock_moves(fleet, build_by_hand, client)
    assert states == {"r1": "BOOTED", "r2": "BOOTED", "sw": "BOOTED"}
    assert ends == [("r1", "sw"), ("r2", "sw")]
    exported = yaml.safe_load(yaml_text)
    assert [n["label"] for n in exported["nodes"]] == ["r1", "r2", "sw"]
    assert len(exported["links"]) == 2
    assert await run_while_clock_moves(fleet, client.logout) is True
