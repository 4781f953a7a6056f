"""A scripted in-memory backend for the dashboard tests: prepared snapshots, recorded calls.

It speaks the same `Backend` protocol as the core service: the app subscribes, and a test
drives the channels by hand (`collect()` publishes one prepared snapshot, `emit()` one event).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cmltui.api.backend import (
    ActivityCallback,
    AuditEntry,
    BackendContext,
    SnapshotCallback,
    SourceStatus,
    StatusCallback,
    WarningCallback,
)
from cmltui.api.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    LabChanged,
    LicenceChanged,
    LicenceStep,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.audit import AuditLog, read_entries
from cmltui.clock import Clock
from cmltui.domain.intervals import Cadence
from cmltui.domain.rules import ActionKind, LabVerb


class ScriptedBackend:
    """`collect()` publishes what `produce()` gives; a gate can hold an action open."""

    def __init__(
        self,
        produce: Callable[[], FleetSnapshot],
        clock: Clock,
        context: BackendContext | None = None,
        interval: float = 10.0,
        *,
        autocollect: bool = False,
    ) -> None:
        self.produce = produce
        self.clock = clock
        self.context = context or BackendContext(profile="lab", regions=("us-east-1",))
        self.cadence = Cadence(interval)
        self.snapshot_callbacks: list[SnapshotCallback] = []
        self.callbacks: list[ActivityCallback] = []
        self.status_callbacks: list[StatusCallback] = []
        self.warning_callbacks: list[WarningCallback] = []
        self.calls: list[tuple[str, ...]] = []
        self.collects = 0
        self.refreshes = 0
        self.started = False
        self.autocollect = autocollect  # start() then collects every interval, as the core would
        self._loop: asyncio.Task[None] | None = None
        self.fail_next: Exception | None = None
        self.action_gate: asyncio.Event | None = None  # when set, pause/resume wait for it
        self.action_error: Exception | None = None  # raised by the next pause/resume
        self.warnings: list[str] = []  # every warning raised so far
        self.warn_next: list[str] = []  # raised by the next pause/resume
        self.audit: AuditLog | None = None  # where pause_many writes (and audit_entries reads)
        self.audit_reads: list[str] = []  # the worker of each audit_entries call
        self.stop_instances_calls: list[tuple[str, tuple[str, ...]]] = []  # (region, ids)

    # -- the protocol's schedule side ----------------------------------------------------------

    @property
    def interval(self) -> float:
        return self.cadence.seconds

    def set_interval(self, seconds: float) -> float:
        return self.cadence.set(seconds)

    def subscribe_snapshots(self, callback: SnapshotCallback) -> None:
        self.snapshot_callbacks.append(callback)

    def subscribe_activity(self, callback: ActivityCallback) -> None:
        self.callbacks.append(callback)

    def subscribe_status(self, callback: StatusCallback) -> None:
        self.status_callbacks.append(callback)

    def subscribe_warnings(self, callback: WarningCallback) -> None:
        """As the protocol says: a late subscriber first gets the warnings already raised."""
        self.warning_callbacks.append(callback)
        for message in self.warnings:
            callback(message)

    def warn(self, message: str) -> None:
        """What an action or the source would report as a warning."""
        self.warnings.append(message)
        for callback in self.warning_callbacks:
            callback(message)

    async def snapshot_once(self) -> FleetSnapshot:
        return self.produce()

    async def audit_entries(self, worker_id: str, limit: int = 50) -> list[AuditEntry]:
        """The worker's entries from `audit` (read off the loop, as the real backends do)."""
        self.audit_reads.append(worker_id)
        if self.audit is None:
            return []
        return await asyncio.to_thread(read_entries, self.audit.path, worker_id, limit)

    async def start(self) -> None:
        self.started = True
        if self.autocollect:
            self._loop = asyncio.create_task(self._collect_every_interval())

    async def _collect_every_interval(self) -> None:
        while True:
            await self.collect()
            await asyncio.sleep(self.interval)

    def refresh_now(self) -> None:
        self.refreshes += 1

    async def close(self) -> None:
        self.started = False
        if self._loop is not None:
            self._loop.cancel()

    async def collect(self) -> FleetSnapshot | None:
        """One prepared snapshot on the snapshot channel (or a failure on the status channel)."""
        self.collects += 1
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            self.status(SourceStatus("lab", "retrying", f"collection failed: {error}"))
            return None
        snapshot = self.produce()
        for callback in self.snapshot_callbacks:
            callback(snapshot)
        return snapshot

    def status(self, status: SourceStatus) -> None:
        for callback in self.status_callbacks:
            callback(status)

    # -- actions -------------------------------------------------------------------------------

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        self.calls.append(("toggle", worker_id, str(shown_enabled)))
        return self.emit(
            IdleDetectionToggled(
                worker_id=worker_id,
                is_enabled=not shown_enabled,
                toggled_by="tester",
                toggled_at=self.clock.now(),
            )
        )

    async def _action(self, name: str, worker_id: str) -> None:
        self.calls.append((name, worker_id))
        if self.action_gate is not None:
            await self.action_gate.wait()
        for message in self.warn_next:
            self.warn(message)
        self.warn_next = []
        if self.action_error is not None:
            error, self.action_error = self.action_error, None
            raise error

    async def pause(self, worker_id: str) -> WorkerPaused:
        await self._action("pause", worker_id)
        return self.emit(self._paused(worker_id))

    async def pause_many(self, worker_ids: list[str]) -> list[WorkerPaused]:
        """As the core's bulk pause: one StopInstances per region, one audit line per worker."""
        self.calls.append(("pause_many", *worker_ids))
        if self.action_error is not None:
            error, self.action_error = self.action_error, None
            raise error
        regions: dict[str, list[str]] = {}
        for dto in self.produce().workers:
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
                events.append(self.emit(self._paused(worker_id)))
        return events

    def _paused(self, worker_id: str) -> WorkerPaused:
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
        return self.emit(
            WorkerResumed(
                worker_id=worker_id,
                resume_reason="manual",
                resumed_by="tester",
                resumed_at=self.clock.now(),
                auto_resume_count=0,
                manual_resume_count=1,
                was_auto_paused=False,
            )
        )

    async def lab_action(self, worker_id: str, lab_id: str, verb: LabVerb) -> LabChanged:
        await self._action(f"{verb}_lab", worker_id)
        self.calls[-1] = (f"{verb}_lab", worker_id, lab_id)
        return self.emit(
            LabChanged(
                worker_id=worker_id,
                lab_id=lab_id,
                lab_title=None,
                action=verb,
                lab_state=None,
                changed_by="tester",
                changed_at=self.clock.now(),
            )
        )

    async def register_licence(
        self, worker_id: str, token: str, *, reregister: bool = False
    ) -> LicenceChanged:
        await self._action("register_licence", worker_id)
        return self.emit(self._licence(worker_id, "registration completed"))

    async def deregister_licence(self, worker_id: str) -> LicenceChanged:
        await self._action("deregister_licence", worker_id)
        return self.emit(self._licence(worker_id, "deregistered"))

    def _licence(self, worker_id: str, step: LicenceStep) -> LicenceChanged:
        return LicenceChanged(
            worker_id=worker_id, step=step, at=self.clock.now(), by="tester", detail=None
        )

    async def prepare_actions(self) -> FleetSnapshot:
        return self.produce()

    def request_text(
        self,
        kind: ActionKind,
        worker_id: str,
        *,
        lab_id: str | None = None,
        enable: bool | None = None,
    ) -> str:
        return f"{kind} {worker_id} {lab_id or ''}".strip()

    def emit(self, event: ActivityEvent) -> ActivityEvent:
        """What the idle checker (or an action) would report on the activity channel."""
        for callback in self.callbacks:
            callback(event)
        return event
