"""Fixtures shared across test folders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

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
