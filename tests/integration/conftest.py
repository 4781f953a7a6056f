"""A simulated fleet (moto + CML over HTTPS on 127.0.0.1) and the real core pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio

from cmltui.audit import AuditLog
from cmltui.clock import ManualClock
from cmltui.config import Config
from cmltui.demo import demo_config
from cmltui.runtime import Core, Endpoints, build_core
from cmltui.sim import SimulatedFleet

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_core(fleet: SimulatedFleet, tmp_path, **config_updates) -> Core:
    data = demo_config(Config(), fleet.region).model_dump()
    for dotted, value in config_updates.items():
        node = data
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node[part]
        node[leaf] = value
    config = Config.model_validate(data)
    endpoints = Endpoints(
        aws_endpoint_url=fleet.aws_endpoint_url,
        aws_credentials=fleet.aws_credentials,
        cml_password=fleet.cml_password,
        cml_ca_bundle=fleet.ca_file,
        demo=True,
    )
    return build_core(
        config, endpoints, fleet.clock, audit=AuditLog(tmp_path / "audit.jsonl"), operator="tester"
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fleet() -> AsyncIterator[SimulatedFleet]:
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(T0))
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()
