"""The embedded simulated fleet as a context: start it, point the core at it, stop it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cmltui.api.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.clock import Clock
from cmltui.config import Config

if TYPE_CHECKING:
    from cmltui.backend import CoreBackend
    from cmltui.runtime import Core, Endpoints
    from cmltui.sim.runner import SimulatedFleet


def demo_config(config: Config, region: str) -> Config:
    """The user's config with what the demo must force: the simulator's region, TLS on."""
    data = config.model_dump()
    data["aws"].update(regions=[region], profile=None, endpoint_url=None)
    # The simulated workers' URL tags name 127.0.0.1, which is not a moto instance's address.
    data["cml"].update(verify_tls=True, ca_bundle=None, overrides=[], allowed_hosts=["127.0.0.1"])
    return Config.model_validate(data)


class SimulatorFacts(Protocol):
    """What a client needs from a simulator: a started fleet, or one parsed from `simulate`."""

    aws_endpoint_url: str
    aws_credentials: Mapping[str, str]
    cml_password: str
    ca_file: Path


def simulator_endpoints(fleet: SimulatorFacts) -> Endpoints:
    """Loopback endpoints and dummy credentials, forced on every client the demo makes."""
    from cmltui.runtime import Endpoints

    return Endpoints(
        aws_endpoint_url=fleet.aws_endpoint_url,
        aws_credentials=fleet.aws_credentials,
        cml_password=fleet.cml_password,
        cml_ca_bundle=fleet.ca_file,
        demo=True,
    )


@asynccontextmanager
async def demo_core(
    config: Config, *, workers: int, seed: int, clock: Clock | None = None
) -> AsyncIterator[tuple[Core, object]]:
    from cmltui.runtime import build_core
    from cmltui.sim.runner import SimulatedFleet

    fleet = SimulatedFleet(workers=workers, seed=seed, clock=clock)
    await fleet.start()
    core = None
    try:
        core = build_core(demo_config(config, fleet.region), simulator_endpoints(fleet), clock)
        yield core, fleet
    finally:
        if core is not None:
            await core.close()
        await fleet.stop()


class DemoBackend:
    """The dashboard's backend on the simulated fleet, started lazily off the first paint.

    The app paints at once; the first `collect()` starts the simulator (moto and the CML
    servers, mostly in threads) and then runs the very same core as `cmltui run`.
    """

    def __init__(self, config: Config, *, workers: int, seed: int, clock: Clock | None = None):
        from cmltui.api.backend import BackendContext

        self._config = config
        self._workers = workers
        self._seed = seed
        self._clock = clock
        self._fleet: SimulatedFleet | None = None
        self._backend: CoreBackend | None = None
        self._subscribers: list[Callable[[ActivityEvent], None]] = []
        self._starting: asyncio.Lock = asyncio.Lock()
        self._interval = config.intervals.collector
        self.context = BackendContext(
            profile="demo (simulated)",
            regions=("us-east-1",),
            read_only=config.read_only,
            tls_verified=True,
            demo=True,
        )

    async def _ready(self) -> CoreBackend:
        from cmltui.backend import CoreBackend
        from cmltui.runtime import build_core
        from cmltui.sim.runner import SimulatedFleet

        async with self._starting:
            if self._backend is None:
                fleet = SimulatedFleet(workers=self._workers, seed=self._seed, clock=self._clock)
                await fleet.start()
                self._fleet = fleet
                core = build_core(
                    demo_config(self._config, fleet.region), simulator_endpoints(fleet), self._clock
                )
                backend = CoreBackend(core)
                backend.interval = self._interval
                for callback in self._subscribers:
                    backend.subscribe_activity(callback)
                self._backend = backend
            return self._backend

    @property
    def interval(self) -> float:
        return self._backend.interval if self._backend else self._interval

    def set_interval(self, seconds: float) -> None:
        """Called by the dashboard on `+`/`-`: `next_refresh_at` and `poll_interval` follow."""
        self.interval = seconds

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._interval = seconds
        if self._backend is not None:
            self._backend.interval = seconds

    @property
    def warnings(self) -> list[str]:
        return self._backend.warnings if self._backend is not None else []

    async def collect(self) -> FleetSnapshot:
        return await (await self._ready()).collect()

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        return await (await self._ready()).toggle_idle_detection(worker_id, shown_enabled)

    async def pause(self, worker_id: str) -> WorkerPaused:
        return await (await self._ready()).pause(worker_id)

    async def resume(self, worker_id: str) -> WorkerResumed:
        return await (await self._ready()).resume(worker_id)

    def subscribe_activity(self, callback: Callable[[ActivityEvent], None]) -> None:
        self._subscribers.append(callback)
        if self._backend is not None:
            self._backend.subscribe_activity(callback)

    async def close(self) -> None:
        if self._backend is not None:
            await self._backend.close()
            self._backend = None
        if self._fleet is not None:
            await self._fleet.stop()
            self._fleet = None
