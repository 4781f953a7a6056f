"""The fleet is deterministic for a seed, differs across seeds, and moves over stepped minutes."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from cmltui.clock import ManualClock
from cmltui.sim import SimulatedFleet, build_fleet, simulate_info_text
from cmltui.sim.cml_model import SERVICE_ACCOUNT_ID
from tests.sim.sim_helpers import client_ssl, get_json, login

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTIVITY = {
    "start_lab",
    "stop_lab",
    "import_lab",
    "export_lab",
    "start_node",
    "stop_node",
    "queue_node",
    "boot_node",
    "wipe_node",
    "user_activity",
}
PATHS = (
    "/system_information",
    "/system_health",
    "/system_stats",
    "/labs?show_all=true",
    "/licensing",
    "/users",
    "/telemetry/events",
)


def test_names_and_roles_are_fixed_for_seed_0() -> None:
    specs = build_fleet(12, 0)
    assert [s.name for s in specs] == [
        "cml-busy-01",
        "cml-labs-02",
        "cml-idle-03",
        "cml-snooze-04",
        "cml-nearpause-05",
        "cml-stopped-06",
        "cml-down-07",
        "cml-degraded-08",
        "cml-noagent-09",
        "cml-eval-10",
        "cml-expired-11",
        "cml-unreg-12",
    ]
    assert build_fleet(12, 0) == specs and build_fleet(12, 1) != specs
    big = build_fleet(100, 0)
    assert big[12].name == "cml-busy-013" and big[12].role == "busy"
    assert len({s.name for s in big}) == 100


async def _snapshot(sim: SimulatedFleet) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ctx = client_ssl(sim.ca_file)
    async with aiohttp.ClientSession() as s:
        for w in sim.workers:
            if not w.endpoint.listening:
                out[w.name] = None
                continue
            token = await login(s, w.cml_url, sim.cml_username, sim.cml_password, ctx)
            bodies = {p: await get_json(s, w.cml_url, p, token, ctx) for p in PATHS}
            for lab_id in bodies["/labs?show_all=true"][1]:
                bodies[lab_id] = await get_json(s, w.cml_url, f"/labs/{lab_id}", token, ctx)
            out[w.name] = bodies
    return out


async def test_same_seed_same_responses_at_every_step() -> None:
    fleets = [SimulatedFleet(workers=12, seed=seed, clock=ManualClock(T0)) for seed in (0, 0, 1)]
    for sim in fleets:
        await sim.start()
    try:
        a, b, _c = fleets
        assert [w.instance_id for w in a.workers] == [w.instance_id for w in b.workers]
        for _ in range(4):
            for sim in fleets:
                sim.clock.advance(97)  # type: ignore[attr-defined]
                await sim.sync()
            snap_a, snap_b, snap_c = [await _snapshot(sim) for sim in fleets]
            assert snap_a == snap_b
            assert snap_a != snap_c
    finally:
        for sim in fleets:
            await sim.stop()


def _newest_activity(events: list[dict[str, Any]]) -> datetime | None:
    times = [
        datetime.fromisoformat(e["timestamp"])
        for e in events
        if e["category"] in ACTIVITY
        and not str(e["data"].get("user_id", "")).startswith("00000000-0000-")
    ]
    return max(times) if times else None


async def test_it_moves_within_15_stepped_minutes() -> None:
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(T0))
    await sim.start()
    clock: ManualClock = sim.clock  # type: ignore[assignment]
    ctx = client_ssl(sim.ca_file)
    idle_seen: dict[str, set[bool]] = {}
    lab_states: dict[tuple[str, str], set[str]] = {}
    cpu_seen: set[float] = set()
    saw_service_account = False
    try:
        async with aiohttp.ClientSession() as s:
            for _minute in range(16):
                now = clock.now()
                for w in sim.workers:
                    if not w.endpoint.listening:
                        continue
                    token = await login(s, w.cml_url, sim.cml_username, sim.cml_password, ctx)
                    _, events = await get_json(s, w.cml_url, "/telemetry/events", token, ctx)
                    assert len(events) <= 200
                    saw_service_account |= any(
                        e["data"].get("user_id") == SERVICE_ACCOUNT_ID for e in events
                    )
                    launch = T0 - timedelta(seconds=w.spec.launched_ago_s)
                    newest = max(filter(None, [_newest_activity(events), launch]))
                    idle_seen.setdefault(w.name, set()).add(now - newest >= timedelta(hours=1))
                    for lab_id in (await get_json(s, w.cml_url, "/labs?show_all=true", token, ctx))[
                        1
                    ]:
                        _, lab = await get_json(s, w.cml_url, f"/labs/{lab_id}", token, ctx)
                        lab_states.setdefault((w.name, lab_id), set()).add(lab["state"])
                    if w.name == "cml-busy-01":
                        _, stats = await get_json(s, w.cml_url, "/system_stats", token, ctx)
                        cpu_seen.add(stats["all"]["cpu"]["percent"])
                clock.advance(60)
                await sim.sync()
    finally:
        await sim.stop()
    flipped = [name for name, seen in idle_seen.items() if seen == {True, False}]
    assert "cml-nearpause-05" in flipped
    assert idle_seen["cml-idle-03"] == {True} and idle_seen["cml-busy-01"] == {False}
    assert any(len(states) > 1 for states in lab_states.values())
    assert saw_service_account
    assert len(cpu_seen) > 5  # utilisation drifts


async def test_simulate_info_text_points_clients_at_the_fleet() -> None:
    sim = SimulatedFleet(workers=3, seed=0, clock=ManualClock(T0))
    await sim.start()
    try:
        text = simulate_info_text(sim)
        for needle in (
            sim.aws_endpoint_url,
            str(sim.ca_file),
            sim.region,
            sim.aws_credentials["aws_access_key_id"],
            "CMLTUI_CML_PASSWORD",
            *(w.cml_url for w in sim.workers),
        ):
            assert needle in text
        toml_part = text.split("cmltui config (TOML):", 1)[1]
        config = tomllib.loads("\n".join(line.strip() for line in toml_part.splitlines()))
        assert config["aws"] == {"endpoint_url": sim.aws_endpoint_url, "regions": [sim.region]}
        assert config["cml"]["ca_bundle"] == str(sim.ca_file)
        assert config["cml"]["password_env"] == "CMLTUI_CML_PASSWORD"
    finally:
        await sim.stop()


async def test_stop_leaves_no_listeners_or_threads() -> None:
    import socket
    import threading

    threads = set(threading.enumerate())
    sim = SimulatedFleet(workers=3, seed=0, clock=ManualClock(T0))
    await sim.start()
    ports = [w.endpoint.port for w in sim.workers]
    moto_port = int(sim.aws_endpoint_url.rsplit(":", 1)[1])
    await sim.stop()
    for port in [*ports, moto_port]:
        with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
            probe.connect(("127.0.0.1", port))
    # The loop's own executor threads (asyncio.to_thread) belong to the loop, not the fleet.
    leftover = [
        t
        for t in set(threading.enumerate()) - threads
        if t.is_alive() and not t.name.startswith("asyncio_")
    ]
    assert not leftover, leftover


def test_node_counts_per_compute_add_up_to_the_controllers() -> None:
    """A monitor sums the computes' dominfo: the sum is the lab book's, never short by the
    rounding of an odd count over two computes (which read '19 of 18 running')."""
    from datetime import UTC, datetime

    from cmltui.sim.cml_model import CmlModel

    t0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    split = 0
    for spec in build_fleet(12, 0):
        model = CmlModel(spec, 0, t0)
        domains = [c["stats"]["dominfo"] for c in model.system_stats(t0)["computes"].values()]
        total = model.book.total_nodes()
        assert sum(d["total_nodes"] for d in domains) == total, spec.name
        assert sum(d["running_nodes"] for d in domains) == model.running_nodes(t0), spec.name
        split += len(domains) > 1 and total % len(domains) != 0
    assert split  # the fleet has a worker whose nodes do not divide evenly over its computes
