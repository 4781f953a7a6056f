"""A scripted in-memory backend for the dashboard tests: prepared snapshots, recorded calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cmltui.api.backend import ActivityCallback, BackendContext
from cmltui.api.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.audit import AuditLog
from cmltui.clock import Clock


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
        self.action_gate: asyncio.Event | None = None  # when set, pause/resume wait for it
        self.action_error: Exception | None = None  # raised by the next pause/resume
        self.warnings: list[str] = []  # as the core's Actions.warnings
        self.warn_next: list[str] = []  # appended to `warnings` by the next pause/resume
        self.audit: AuditLog | None = None  # where pause_many writes its audit lines
        self.stop_instances_calls: list[tuple[str, tuple[str, ...]]] = []  # (region, ids)

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

    async def _action(self, name: str, worker_id: str) -> None:
        self.calls.append((name, worker_id))
        if self.action_gate is not None:
            await self.action_gate.wait()
        for message in self.warn_next:
            self.warnings.append(message)
        self.warn_next = []
        if self.action_error is not None:
            error, self.action_error = self.action_error, None
            raise error

    async def pause(self, worker_id: str) -> WorkerPaused:
        await self._action("pause", worker_id)
        return WorkerPaused(
            worker_id=worker_id,
            pause_reason="manual",
            paused_by="tester",
            paused_at=self.clock.now(),
            auto_pause_count=0,
            manual_pause_count=1,
            idle_duration_minutes=None,
        )

    async def resume(self, worker_id: str) -> WorkerResumed:
        await self._action("resume", worker_id)
        return WorkerResumed(
            worker_id=worker_id,
            resume_reason="manual",
            resumed_by="tester",
            resumed_at=self.clock.now(),
            auto_resume_count=0,
            manual_resume_count=1,
            was_auto_paused=False,
        )

    async def pause_many(self, worker_ids: list[str]) -> list[WorkerPaused]:
        """As the core's bulk pause: one StopInstances per region, one audit line per worker."""
        self.calls.append(("pause_many", *worker_ids))
        if self.action_error is not None:
            error, self.action_error = self.action_error, None
            raise error
        snapshot = self.produce()
        regions: dict[str, list[str]] = {}
        for dto in snapshot.workers:
            if dto.id in worker_ids:
                regions.setdefault(dto.aws_region, []).append(dto.id)
        events = []
        for region, ids in sorted(regions.items()):
            self.stop_instances_calls.append((region, tuple(ids)))
            for worker_id in ids:
                if self.audit is not None:
                    self.audit.record(
                        at=self.clock.now(),
                        operator="tester",
                        action="pause",
                        worker_id=worker_id,
                        worker_name=None,
                        region=region,
                        result="ok",
                        detail={"bulk": True},
                    )
                events.append(
                    WorkerPaused(
                        worker_id=worker_id,
                        pause_reason="manual",
                        paused_by="tester",
                        paused_at=self.clock.now(),
                        auto_pause_count=0,
                        manual_pause_count=1,
                        idle_duration_minutes=None,
                    )
                )
        return events

    def subscribe_activity(self, callback: ActivityCallback) -> None:
        self.callbacks.append(callback)

    def emit(self, event: ActivityEvent) -> None:
        """What the idle checker (or an action) would report."""
        for callback in self.callbacks:
            callback(event)
