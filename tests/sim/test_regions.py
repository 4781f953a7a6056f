"""Extra regions keep the worker mix in every region; start-up reports its progress."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import boto3
import pytest

from cmltui.clock import ManualClock
from cmltui.sim import SimulatedFleet, build_fleet
from cmltui.sim.fleet import ROLES
from cmltui.sim.runner import PHASE_CLOUDWATCH, PHASE_ENDPOINTS, PHASE_INSTANCES

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_each_region_runs_through_the_mix_from_its_start() -> None:
    specs = build_fleet(12, 0, regions=2)
    by_region = {r: [s.role for s in specs if s.region_index == r] for r in (0, 1)}
    assert by_region[0] == by_region[1] == list(ROLES[:6])
    assert len({s.name for s in specs}) == 12
    # One region: exactly the fleet it always was.
    assert build_fleet(30, 5, regions=1) == build_fleet(30, 5)
    uneven = build_fleet(25, 0, regions=2)
    assert [sum(s.region_index == r for s in uneven) for r in (0, 1)] == [13, 12]
    with pytest.raises(ValueError, match="regions"):
        build_fleet(3, 0, regions=0)


@pytest.mark.asyncio
async def test_two_regions_each_hold_the_whole_mix_and_progress_is_reported() -> None:
    calls: list[tuple[str, int, int]] = []
    sim = SimulatedFleet(
        workers=24, seed=2, clock=ManualClock(T0), extra_regions=("eu-west-1",), tick_s=3600
    )
    await sim.start(lambda phase, done, total: calls.append((phase, done, total)))
    try:
        for region in sim.regions:
            ec2 = boto3.client(
                "ec2", endpoint_url=sim.aws_endpoint_url, region_name=region, **sim.aws_credentials
            )
            reservations = ec2.describe_instances()["Reservations"]
            names = [
                {t["Key"]: t["Value"] for t in i["Tags"]}["Name"]
                for r in reservations
                for i in r["Instances"]
            ]
            roles = Counter(sim.worker(n).role for n in names)
            assert roles == Counter(ROLES), region  # every role, once per region
            assert all(sim.worker(n).region == region for n in names)
    finally:
        await sim.stop()

    phases = [p for p, _, _ in calls]
    order = [PHASE_INSTANCES, PHASE_CLOUDWATCH, PHASE_ENDPOINTS]
    assert [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p] == order
    for phase in order:
        seen = [(done, total) for p, done, total in calls if p == phase]
        dones = [d for d, _ in seen]
        assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == seen[-1][1]
    assert [t for p, _, t in calls if p == PHASE_INSTANCES][-1] == 24
    assert [t for p, _, t in calls if p == PHASE_CLOUDWATCH][-1] == 2
