"""Stop and start through boto3 switch the worker's CML off and on, on a stepped clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import boto3
import pytest
import pytest_asyncio

from cmltui.clock import ManualClock
from cmltui.sim import SimulatedFleet
from tests.sim.sim_helpers import client_ssl, get_json

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def small() -> AsyncIterator[SimulatedFleet]:
    sim = SimulatedFleet(
        workers=6,
        seed=3,
        boot_delay_s=20,
        clock=ManualClock(datetime(2026, 5, 4, 12, 0, tzinfo=UTC)),
    )
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def _answers(sim: SimulatedFleet, name: str) -> bool:
    async with aiohttp.ClientSession() as s:
        try:
            status, _ = await get_json(
                s, sim.worker(name).cml_url, "/system_information", None, client_ssl(sim.ca_file)
            )
        except aiohttp.ClientConnectorError as exc:
            assert isinstance(exc.os_error, ConnectionRefusedError)
            return False
    return status == 200


async def test_stop_and_start_through_boto3(small: SimulatedFleet) -> None:
    clock: ManualClock = small.clock  # type: ignore[assignment]
    ec2 = boto3.client(
        "ec2",
        endpoint_url=small.aws_endpoint_url,
        region_name=small.region,
        **small.aws_credentials,
    )
    w = small.worker("cml-idle-03")
    assert await _answers(small, w.name)
    clock.advance(60)
    ec2.stop_instances(InstanceIds=[w.instance_id])
    stopped_at = clock.now()
    await small.sync()
    assert not await _answers(small, w.name)
    reason = ec2.describe_instances(InstanceIds=[w.instance_id])["Reservations"][0]["Instances"][0][
        "StateTransitionReason"
    ]
    assert stopped_at.strftime("%Y-%m-%d %H:%M:%S") in reason  # the sim clock, not the wall

    clock.advance(300)
    ec2.start_instances(InstanceIds=[w.instance_id])
    started_at = clock.now()
    await small.sync()
    assert not await _answers(small, w.name)  # still booting
    clock.advance(10)
    await small.sync()
    assert not await _answers(small, w.name)
    clock.advance(11)
    await small.sync()
    assert await _answers(small, w.name)
    launch = ec2.describe_instances(InstanceIds=[w.instance_id])["Reservations"][0]["Instances"][0][
        "LaunchTime"
    ]
    assert launch == started_at.replace(microsecond=0)


async def test_stopped_worker_boots_when_started(small: SimulatedFleet) -> None:
    clock: ManualClock = small.clock  # type: ignore[assignment]
    w = small.worker("cml-stopped-06")
    assert w.ec2_state == "stopped" and not await _answers(small, w.name)
    ec2 = boto3.client(
        "ec2",
        endpoint_url=small.aws_endpoint_url,
        region_name=small.region,
        **small.aws_credentials,
    )
    ec2.start_instances(InstanceIds=[w.instance_id])
    clock.advance(timedelta(seconds=small.boot_delay_s).total_seconds() + 1)
    await small.sync()  # the start is seen at this step: boot starts now
    assert not await _answers(small, w.name)
    clock.advance(small.boot_delay_s)
    await small.sync()
    assert await _answers(small, w.name)


async def test_cml_boots_refusing_then_not_ready_then_ready(
    small: SimulatedFleet, tmp_path
) -> None:
    """After an EC2 start CML refuses connections, then answers `ready: false` (and 503 to the
    rest), then `ready: true`; cmltui shows each phase."""
    from tests.sim.sim_helpers import make_core

    clock: ManualClock = small.clock  # type: ignore[assignment]
    ec2 = boto3.client(
        "ec2",
        endpoint_url=small.aws_endpoint_url,
        region_name=small.region,
        **small.aws_credentials,
    )
    w = small.worker("cml-nearpause-05")
    core = make_core(small, tmp_path)
    ctx = client_ssl(small.ca_file)

    async def phase() -> tuple[str, bool | None, str]:
        await small.sync()
        await core.collector.collect()
        dto = next(d for d in (await core.collector.collect()).workers if d.name == w.name)
        return dto.service_status.value, dto.cml_ready, dto.errors.get("cml", "")

    try:
        assert (await phase())[:2] == ("available", True)
        ec2.stop_instances(InstanceIds=[w.instance_id])
        assert (await phase())[:2] == ("unavailable", None)
        clock.advance(60)
        ec2.start_instances(InstanceIds=[w.instance_id])
        service, ready, error = await phase()
        assert (service, ready) == ("starting", None) and "refused" in error.lower()
        assert not await _answers(small, w.name)

        clock.advance(small.boot_delay_s + 1)
        service, ready, error = await phase()
        assert (service, ready) == ("starting", False) and "503" in error
        async with aiohttp.ClientSession() as s:
            status, info = await get_json(s, w.cml_url, "/system_information", None, ctx)
            assert (status, info["ready"]) == (200, False)
            async with s.post(
                f"{w.cml_url}/api/v0/authenticate",
                json={"username": small.cml_username, "password": small.cml_password},
                ssl=ctx,
            ) as r:
                assert r.status == 503 and (await r.json())["code"] == 503

        clock.advance(small.ready_delay_s)
        service, ready, error = await phase()
        assert (service, ready, error) == ("available", True, "")
    finally:
        await core.close()
