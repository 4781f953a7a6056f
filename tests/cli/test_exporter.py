"""The Prometheus exporter against the simulated fleet: the metrics parse with
prometheus_client's own parser, say what `snapshot` says, and a scrape never collects."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cmltui.api.backend import BackendContext
from cmltui.backends.direct.service import CoreService
from cmltui.exporter.server import Exporter, Listen, parse_listen
from cmltui.sim import SimulatedFleet
from cmltui.sim.runner import simulate_exports
from tests.backends.direct.sim_core import make_core
from tests.cli.test_snapshot import clean_env, cmltui

ON_FLEET_LOOP = pytest.mark.asyncio(loop_scope="module")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def families(text: str) -> dict[str, Any]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(found: dict[str, Any], name: str, **labels: str) -> float:
    family = found[name]
    matching = [
        s.value for s in family.samples if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matching) == 1, (name, labels, matching)
    return matching[0]


async def scrape(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return await response.text()


def service_on(fleet: SimulatedFleet, tmp_path) -> CoreService:
    core = make_core(fleet, tmp_path, intervals__collector=600.0)

    async def opener(cadence, progress):
        return core

    return CoreService(
        config=core.config, context=BackendContext(), opener=opener, label="test · simulated"
    )


@ON_FLEET_LOOP
async def test_scrapes_read_the_last_snapshot_and_never_collect(fleet, tmp_path):
    service = service_on(fleet, tmp_path)
    exporter = Exporter(service, Listen("127.0.0.1", free_port()))
    first = asyncio.get_running_loop().create_future()
    service.subscribe_snapshots(lambda s: first.done() or first.set_result(s))
    await exporter.start()
    try:
        snapshot = await asyncio.wait_for(first, 60)
        await asyncio.sleep(0.5)  # the idle checker's first round asks for one more cycle
        await asyncio.wait_for(_until_quiet(service), 60)
        core = service.core
        assert core is not None
        describes = core.aws.calls.count(operation="DescribeInstances")
        cml_requests = core.cml.stats.requests
        texts = [await scrape(exporter.listen.url) for _ in range(20)]
        await asyncio.sleep(0.5)  # a cycle a scrape had asked for would be under way by now
        await asyncio.wait_for(_until_quiet(service), 60)
        assert core.aws.calls.count(operation="DescribeInstances") == describes
        found = families(texts[-1])
        snapshot = exporter.latest
        assert snapshot is not None
        running = {w.aws_instance_id for w in snapshot.workers if w.status.value == "running"}
        cpu = found["cmltui_worker_cpu_utilization_ratio"].samples
        assert sorted(s.labels["instance_id"] for s in cpu) == sorted(running)
        by_id = {w.aws_instance_id: w for w in snapshot.workers}
        for sample in cpu:
            dto = by_id[sample.labels["instance_id"]]
            assert sample.labels["name"] == dto.name
            assert sample.labels["region"] == dto.aws_region
            assert sample.value == pytest.approx(dto.cpu_utilization / 100)
            assert 0 <= sample.value <= 1
        burn = value(found, "cmltui_fleet_burn_dollars_per_hour")
        assert burn == pytest.approx(snapshot.to_dict()["fleet"]["burn_per_hour"], abs=1e-3)
        assert burn > 0
        # One series per state of each worker's idle state, exactly one of them 1.
        idle = found["cmltui_worker_idle_state"].samples
        for instance_id in running:
            states = [s for s in idle if s.labels["instance_id"] == instance_id]
            assert sum(s.value for s in states) == 1 and len(states) == 5
        stopped = [w for w in snapshot.workers if w.status.value == "stopped"]
        assert value(found, "cmltui_fleet_workers", state="stopped") == len(stopped)
        assert value(found, "cmltui_source_up") == 1
        assert value(found, "cmltui_collector_cycles") >= 1  # the parser drops `_total`
        health = service.collector_health()
        assert value(found, "cmltui_collector_cml_requests") == health.cml_requests
        assert health.cml_requests <= cml_requests
        assert (
            value(found, "cmltui_aws_api_calls", operation="DescribeInstances", region=fleet.region)
            == describes
        )
    finally:
        await exporter.close()
        await service.close()


async def _until_quiet(service: CoreService) -> None:
    """Wait until no cycle runs or is asked for (the service holds its cycle lock meanwhile)."""
    while service._cycle_lock.locked() or service._refresh_requested:
        await asyncio.sleep(0.1)


@ON_FLEET_LOOP
async def test_the_command_serves_what_snapshot_prints(fleet, tmp_path):
    """`cmltui exporter` and `cmltui snapshot`, each its own process, against one fleet."""
    env = clean_env(tmp_path, **dict(simulate_exports(fleet)))
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cmltui", "exporter", "--listen", f"127.0.0.1:{port}",
        env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert f"serving http://127.0.0.1:{port}/metrics" in line.decode()
        found: dict[str, Any] = {}
        for _ in range(300):
            found = families(await scrape(f"http://127.0.0.1:{port}/metrics"))
            if "cmltui_fleet_burn_dollars_per_hour" in found:
                break
            await asyncio.sleep(0.2)
        once = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cmltui", "snapshot", "--format", "json",
            env=env, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(once.communicate(), 120)
        fleet_block = json.loads(out)["fleet"]
        assert value(found, "cmltui_fleet_burn_dollars_per_hour") == pytest.approx(
            fleet_block["burn_per_hour"], abs=1e-3
        )
        assert value(found, "cmltui_fleet_workers", state="running") == fleet_block["running"]
        async with aiohttp.ClientSession() as session:  # no action is served
            async with session.post(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 405
            async with session.get(f"http://127.0.0.1:{port}/pause") as response:
                assert response.status == 404
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 143


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--listen", "0.0.0.0:9719"], "add --allow-remote"),
        (["--listen", "example.org:9719"], "add --allow-remote"),
        (["--listen", "127.0.0.1"], "expected HOST:PORT"),
        (["--listen", "127.0.0.1:99999"], "expected HOST:PORT"),
    ],
)
def test_only_loopback_unless_asked_and_a_bad_listen_is_one_line(tmp_path, args, says):
    result = cmltui("exporter", "--demo", *args, env=clean_env(tmp_path), timeout=60)
    assert result.returncode == 2
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_listen_addresses():
    assert parse_listen("127.0.0.1:9719") == Listen("127.0.0.1", 9719)
    assert parse_listen("[::1]:9000").loopback and parse_listen("localhost:1").loopback
    assert parse_listen("[::1]:9000").url == "http://[::1]:9000/metrics"
    assert not parse_listen("10.0.0.5:9719").loopback
