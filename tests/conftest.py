"""Fixtures shared across test folders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import boto3
import pytest
import pytest_asyncio

from cmltui.clock import ManualClock
from cmltui.sim import SimulatedFleet

SIM_T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fleet() -> AsyncIterator[SimulatedFleet]:
    """A started simulated fleet (12 workers, seed 0) on a ManualClock at SIM_T0, per module."""
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(SIM_T0))
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


def _ec2_facts(fleet: SimulatedFleet) -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    """(region, instance id) -> (state, tags) of every instance the simulated EC2 lists."""
    facts = {}
    for region in fleet.regions:
        ec2 = boto3.client(
            "ec2", region_name=region, endpoint_url=fleet.aws_endpoint_url, **fleet.aws_credentials
        )
        for reservation in ec2.describe_instances()["Reservations"]:
            for instance in reservation["Instances"]:
                tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                facts[region, instance["InstanceId"]] = (instance["State"]["Name"], tags)
    return facts


def _put_back(fleet: SimulatedFleet, found: dict, now: dict) -> None:
    """Start or stop what a test stopped or started, and put its tags back as they were."""
    for (region, instance_id), (state, tags) in found.items():
        state_now, tags_now = now.get((region, instance_id), ("terminated", {}))
        if state_now == "terminated":
            continue
        ec2 = boto3.client(
            "ec2", region_name=region, endpoint_url=fleet.aws_endpoint_url, **fleet.aws_credentials
        )
        if state != state_now and state == "running":
            ec2.start_instances(InstanceIds=[instance_id])
        elif state != state_now and state == "stopped":
            ec2.stop_instances(InstanceIds=[instance_id])
        added = [{"Key": k} for k in tags_now if k not in tags]
        if added:
            ec2.delete_tags(Resources=[instance_id], Tags=added)
        changed = [{"Key": k, "Value": v} for k, v in tags.items() if tags_now.get(k) != v]
        if changed:
            ec2.create_tags(Resources=[instance_id], Tags=changed)


@pytest.fixture(autouse=True)
def _shared_fleet_left_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module's simulated fleet is shared by its tests, in whatever order they run: what a
    test stops, starts or tags (an auto-pause of a worker it did not look at included) is put
    back afterwards, so no test depends on another having run before it, or not."""
    if "fleet" not in request.fixturenames:
        yield
        return
    fleet = request.getfixturevalue("fleet")
    if not isinstance(fleet, SimulatedFleet) or fleet.t0 is None:
        yield
        return
    found = _ec2_facts(fleet)
    yield
    _put_back(fleet, found, _ec2_facts(fleet))
