"""The embedded simulated fleet as a context: start it, point the core at it, stop it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.runtime import Core, Endpoints, build_core


def demo_config(config: Config, region: str) -> Config:
    """The user's config with what the demo must force: the simulator's region, TLS on."""
    data = config.model_dump()
    data["aws"].update(regions=[region], profile=None, endpoint_url=None)
    data["cml"].update(verify_tls=True, ca_bundle=None, overrides=[])
    return Config.model_validate(data)


@asynccontextmanager
async def demo_core(
    config: Config, *, workers: int, seed: int, clock: Clock | None = None
) -> AsyncIterator[tuple[Core, object]]:
    from cmltui.sim.runner import SimulatedFleet

    fleet = SimulatedFleet(workers=workers, seed=seed, clock=clock)
    await fleet.start()
    core = None
    try:
        endpoints = Endpoints(
            aws_endpoint_url=fleet.aws_endpoint_url,
            aws_credentials=fleet.aws_credentials,
            cml_password=fleet.cml_password,
            cml_ca_bundle=fleet.ca_file,
            demo=True,
        )
        core = build_core(demo_config(config, fleet.region), endpoints, clock)
        yield core, fleet
    finally:
        if core is not None:
            await core.close()
        await fleet.stop()
