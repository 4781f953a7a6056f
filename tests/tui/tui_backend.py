"""A scripted in-memory backend for the dashboard tests: prepared snapshots, recorded calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cmltui.clock import Clock
from cmltui.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.tui.backend import ActivityCallback, BackendContext


class ScriptedBackend:
    """`collect()` returns what `produce()` gives; a gate can hold a cycle open."""

    def __init__(
        self,
        produce: Callable[[], FleetSnapshot],
        clock: Clock,
        context: BackendContext | None = None,
    ) -> None:
        self.produce = produce
        self.clock = clock
        self.context = context or BackendContext(profile="lab", regions=("us-east-1",))
        self.callbacks: list[ActivityCallback] = []
        self.calls: list[tuple[str, ...]] = []
        self.gate: asyncio.Event | None = None  # when set, collect() waits for it
        self.in_flight = 0
        self.max_in_flight = 0
        self.collects = 0
        self.fail_next: Exception | None = None

    async def collect(self) -> FleetSnapshot:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self.collects += 1
            if self.gate is not None:
                await self.gate.wait()
            if self.fail_next is not None:
                error, self.fail_next = self.fail_next, None
                raise error
            return self.produce()
        finally:
            self.in_flight -= 1

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        self.calls.append(("toggle", worker_id, str(shown_enabled)))
        return IdleDetectionToggled(
            worker_id=worker_id,
            is_enabled=not shown_enabled,
            toggled_by="tester",
            toggled_at=self.clock.now(),
        )

    async def pause(self, worker_id: str) -> WorkerPaused:
        raise NotImplementedError

    async def resume(self, worker_id: str) -> WorkerResumed:
        raise NotImplementedError

    def subscribe_activity(self, callback: ActivityCallback) -> None:
        self.callbacks.append(callback)

    def emit(self, event: ActivityEvent) -> None:
        """What the idle checker (or an action) would report."""
        for callback in self.callbacks:
            callback(event)
