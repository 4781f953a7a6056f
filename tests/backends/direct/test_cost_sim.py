"""Savings end to end on the simulated fleet: real actions, tags and audit file, stepped clock."""

from __future__ import annotations

import pytest

from cmltui.domain.enums import PauseReason
from tests.backends.direct.sim_core import make_core
from tests.worker_lookup import by_name

pytestmark = pytest.mark.asyncio(loop_scope="module")

NAME = "cml-nearpause-05"


async def step(fleet, core, hours: float = 0.0):
    fleet.clock.advance(hours * 3600)
    fleet.step()
    await fleet.sync()
    snapshot = await core.collector.collect()
    return snapshot, by_name(snapshot)[NAME]


async def test_pause_resume_auto_pause_savings_count_each_hour_once(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker = fleet.worker(NAME)
    try:
        first = by_name(await core.collector.collect())[NAME]
        price = first.hourly_price
        assert price and first.price_source == "table" and first.savings.saved_usd == 0.0

        paused = await core.actions.pause(worker.instance_id)  # manual
        _, dto = await step(fleet, core, hours=2)
        assert dto.status == "stopped" and dto.hourly_cost == 0.0
        assert dto.savings.manual_usd == pytest.approx(2 * price, abs=0.02)
        assert dto.savings.since == paused.paused_at
        # the tags and the audit log both know this stop: both are named, its hours count once
        assert set(dto.savings.basis) == {"audit log", "pause tags"}

        await core.actions.resume(worker.instance_id)
        _, dto = await step(fleet, core, hours=1)
        assert dto.status == "running" and dto.hourly_cost == price
        assert dto.savings.saved_usd == pytest.approx(2 * price, abs=0.02)  # running hour: none

        await core.actions.pause(worker.instance_id, reason=PauseReason.IDLE_TIMEOUT)
        snapshot, dto = await step(fleet, core, hours=3)
        assert dto.savings.auto_usd == pytest.approx(3 * price, abs=0.02)
        assert dto.savings.manual_usd == pytest.approx(2 * price, abs=0.02)
        assert dto.savings.saved_usd == pytest.approx(5 * price, abs=0.03)
        fleet_block = snapshot.to_dict()["fleet"]["savings"]
        assert fleet_block["auto_usd"] >= round(3 * price, 2) - 0.02
        assert fleet_block["since"] is not None

        # A new process reads the earlier intervals back from the audit file.
        fresh = make_core(fleet, tmp_path)
        try:
            again = by_name(await fresh.collector.collect())[NAME]
        finally:
            await fresh.close()
        assert again.savings.saved_usd == pytest.approx(dto.savings.saved_usd, abs=0.02)
        assert again.savings.auto_usd == pytest.approx(dto.savings.auto_usd, abs=0.02)
    finally:
        await core.close()
