"""Shared pieces of the Cloud Manager tests: a started simulator and a backend pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cmltui.api.backend import SourceStatus
from cmltui.api.events import FleetSnapshot
from cmltui.audit import AuditLog
from cmltui.backends.ccm.backend import CcmBackend, StreamTiming
from cmltui.clock import ManualClock
from cmltui.config import Config
from cmltui.sim.ccm_server import CcmSimulator

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@contextlib.asynccontextmanager
async def running_simulator(workers: int = 12, **settings: Any) -> AsyncIterator[CcmSimulator]:
    """A frozen-clock double whose ticks the tests drive, so payloads change only on purpose;
    `settings` are the double's attributes to set before it starts (`licence_poll_s`)."""
    simulator = CcmSimulator(workers=workers, seed=0, clock=ManualClock(T0), tick_s=3600)
    for name, value in settings.items():
        setattr(simulator, name, value)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@contextlib.asynccontextmanager
async def live_backend(
    sim: CcmSimulator, tmp_path: Path
) -> AsyncIterator[tuple[CcmBackend, Recorder]]:
    """A started backend on `sim`, its initial set in and its idle verdicts and labs read once,
    with a recorder of what it publishes."""
    backend = make_backend(sim, tmp_path)
    recorder = Recorder(backend)
    await backend.start()
    try:
        assert await backend.wait_initial_set(5)
        await wait_for(lambda: facts_read(backend))
        yield backend, recorder
    finally:
        await backend.close()


FAST = StreamTiming(
    backoff_min=0.05,
    backoff_max=0.4,
    shutdown_delay=0.1,
    silence=5.0,
    initial_set_timeout=2.0,
    action_event_timeout=3.0,
)


def ccm_config(sim: CcmSimulator, *, read_only: bool = False, **source: Any) -> Config:
    data: dict[str, Any] = {
        "read_only": read_only,
        "source": {
            "kind": "ccm",
            "url": sim.url,
            "ca_bundle": str(sim.ca_file),
            "token_env": "TEST_CCM_TOKEN",
            **source,
        },
        "intervals": {"collector": 2},
        "idle": {"settle_seconds": 30},
    }
    return Config.model_validate(data)


def make_backend(
    sim: CcmSimulator,
    tmp_path: Path,
    *,
    config: Config | None = None,
    env: dict[str, str] | None = None,
    timing: StreamTiming = FAST,
) -> CcmBackend:
    return CcmBackend(
        config or ccm_config(sim),
        clock=sim.clock,  # the simulator's: idle minutes and held times follow the test's clock
        env={"TEST_CCM_TOKEN": sim.token} if env is None else env,
        audit=AuditLog(tmp_path / "audit.jsonl"),
        operator="tester",
        timing=timing,
    )


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until `predicate()` holds; fail with the predicate's name otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await asyncio.sleep(0.02)


def facts_read(backend: CcmBackend) -> bool:
    """Every running worker's lab list, and every one with idle detection on its verdict, has
    been read from Cloud Manager (until then they show as unknown)."""
    fleet = backend.fleet
    labs = all(fleet.entries[w].labs is not None for w in fleet.running())
    verdicts = all(fleet.entries[w].verdict is not None for w in fleet.running(detection=True))
    return labs and verdicts


class Recorder:
    """Everything a backend publishes, in order."""

    def __init__(self, backend: CcmBackend) -> None:
        self.snapshots: list[FleetSnapshot] = []
        self.statuses: list[SourceStatus] = []
        self.activity: list[object] = []
        backend.subscribe_snapshots(self.snapshots.append)
        backend.subscribe_status(self.statuses.append)
        backend.subscribe_activity(self.activity.append)

    def states(self) -> list[str]:
        return [s.state for s in self.statuses]
