"""A simulated fleet shared by every test of a module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sim_core import T0

from cmltui.clock import ManualClock
from cmltui.sim import SimulatedFleet


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fleet() -> AsyncIterator[SimulatedFleet]:
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(T0))
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()
