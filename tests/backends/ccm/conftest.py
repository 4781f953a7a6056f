"""Fixtures of the Cloud Manager tests: the double, and a backend reading it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from cmltui.backends.ccm.backend import CcmBackend
from cmltui.sim.ccm_server import CcmSimulator

from .ccm_helpers import Recorder, live_backend, running_simulator


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[CcmSimulator]:
    async with running_simulator() as simulator:
        yield simulator


@pytest_asyncio.fixture
async def live(sim: CcmSimulator, tmp_path: Path) -> AsyncIterator[tuple[CcmBackend, Recorder]]:
    async with live_backend(sim, tmp_path) as pair:
        yield pair
