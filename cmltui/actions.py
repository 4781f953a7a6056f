"""Operator actions (SPEC §2.5): toggle idle detection, pause, resume.

Each action checks its preconditions by status, calls AWS, records the audit log and returns its
minimal activity event. None builds a snapshot. Read-only mode blocks every AWS write, even when
an action is invoked from code.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime

from cmltui.api.backend import ActionFailed, ActionRefused
from cmltui.api.events import IdleDetectionToggled, WorkerPaused, WorkerResumed
from cmltui.audit import AuditLog
from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.domain import idle
from cmltui.domain.enums import SYSTEM_ACTOR, PauseReason, WorkerStatus
from cmltui.domain.registry import WorkerRegistry
from cmltui.domain.tags import (
    IDLE_DETECTION_TAG,
    IDLE_DISABLED,
    IDLE_ENABLED,
    pause_tags,
    resume_tags,
)
from cmltui.domain.worker import CMLWorker
from cmltui.sources.aws import AwsSource
from cmltui.sources.aws_errors import AwsActionError

log = logging.getLogger(__name__)


class Actions:
    def __init__(
        self,
        *,
        config: Config,
        registry: WorkerRegistry,
        aws: AwsSource,
        clock: Clock,
        audit: AuditLog,
        operator: str | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self.aws = aws
        self.clock = clock
        self.audit = audit
        self.operator = operator or _local_user()
        self._in_flight: set[str] = set()
        self.warnings: list[str] = []  # e.g. a stop whose history tags could not be written

    def set_operator(self, name: str) -> None:
        """The name recorded from now on (the STS caller, once known)."""
        self.operator = name

    @property
    def read_only(self) -> bool:
        return self.config.read_only

    def in_flight(self, worker_id: str) -> bool:
        return worker_id in self._in_flight

    # -- toggle idle detection -----------------------------------------------------------------

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        """Write the opposite of the value shown (never read-then-invert)."""
        worker = self._worker(worker_id)
        action = "toggle_idle_detection"
        if worker.status is WorkerStatus.TERMINATED:
            raise ActionRefused(f"{worker.name} is terminated")
        new_value = not shown_enabled
        async with self._guard(worker, action):
            now = self.clock.now()
            tag_value = IDLE_ENABLED if new_value else IDLE_DISABLED
            await self._aws_write(
                worker,
                action,
                self.aws.create_tags(
                    worker.region, worker.instance_id, {IDLE_DETECTION_TAG: tag_value}
                ),
            )
            worker.tags[IDLE_DETECTION_TAG] = tag_value
            self._audit(worker, action, "ok", now, detail={"is_enabled": new_value})
            return IdleDetectionToggled(
                worker_id=worker.instance_id,
                is_enabled=new_value,
                toggled_by=self.operator,
                toggled_at=now,
            )

    # -- pause ---------------------------------------------------------------------------------

    async def pause(
        self, worker_id: str, *, reason: PauseReason = PauseReason.MANUAL, by: str | None = None
    ) -> WorkerPaused:
        worker = self._worker(worker_id)
        action = "auto_pause" if reason is PauseReason.IDLE_TIMEOUT else "pause"
        if worker.status in (WorkerStatus.STOPPING, WorkerStatus.STOPPED):
            raise ActionRefused(f"{worker.name} is already {worker.status.value}")
        if worker.status is not WorkerStatus.RUNNING:
            raise ActionRefused(
                f"{worker.name} is {worker.status.value}; only a running worker can be paused",
            )
        actor = by or (SYSTEM_ACTOR if reason is PauseReason.IDLE_TIMEOUT else self.operator)
        async with self._guard(worker, action):
            now = self.clock.now()
            idle_minutes = idle.idle_minutes(worker, now)
            await self._aws_write(
                worker, action, self.aws.stop_instance(worker.region, worker.instance_id)
            )
            history = worker.history
            history = replace(
                history,
                last_paused_at=now,
                last_paused_by=actor,
                pause_reason=reason,
                auto_pause_count=history.auto_pause_count + (reason is PauseReason.IDLE_TIMEOUT),
                manual_pause_count=history.manual_pause_count + (reason is PauseReason.MANUAL),
            )
            worker.history = history
            worker.stop_initiated_at = now
            await self._record(
                worker, action, pause_tags(history), now, {"reason": reason.value, "by": actor}
            )
            return WorkerPaused(
                worker_id=worker.instance_id,
                pause_reason=reason.value,
                paused_by=actor,
                paused_at=now,
                auto_pause_count=history.auto_pause_count,
                manual_pause_count=history.manual_pause_count,
                idle_duration_minutes=None if idle_minutes is None else round(idle_minutes, 1),
            )

    # -- resume --------------------------------------------------------------------------------

    async def resume(self, worker_id: str, *, by: str | None = None) -> WorkerResumed:
        worker = self._worker(worker_id)
        action = "resume"
        if worker.status in (WorkerStatus.PENDING, WorkerStatus.RUNNING):
            raise ActionRefused(f"{worker.name} is already {worker.status.value}")
        if worker.status is not WorkerStatus.STOPPED:
            raise ActionRefused(
                f"{worker.name} is {worker.status.value}; only a stopped worker can be resumed",
            )
        actor = by or self.operator
        async with self._guard(worker, action):
            now = self.clock.now()
            was_auto_paused = worker.history.pause_reason is PauseReason.IDLE_TIMEOUT
            await self._aws_write(
                worker, action, self.aws.start_instance(worker.region, worker.instance_id)
            )
            history = replace(
                worker.history,
                last_resumed_at=now,
                last_resumed_by=actor,
                manual_resume_count=worker.history.manual_resume_count + 1,
            )
            worker.history = history
            worker.start_initiated_at = now
            await self._record(worker, action, resume_tags(history), now, {"by": actor})
            return WorkerResumed(
                worker_id=worker.instance_id,
                resume_reason="manual",
                resumed_by=actor,
                resumed_at=now,
                auto_resume_count=history.auto_resume_count,
                manual_resume_count=history.manual_resume_count,
                was_auto_paused=was_auto_paused,
            )

    # -- helpers -------------------------------------------------------------------------------

    def _worker(self, worker_id: str) -> CMLWorker:
        worker = self.registry.get(worker_id)
        if worker is None:
            raise ActionRefused(f"unknown worker {worker_id}")
        return worker

    def _guard(self, worker: CMLWorker, action: str) -> _InFlight:
        if self.read_only:
            self._audit(worker, action, "refused", self.clock.now(), error="read-only mode")
            raise ActionRefused(f"read-only mode: {action.replace('_', ' ')} not sent")
        if worker.instance_id in self._in_flight:
            raise ActionRefused(f"{worker.name}: an action is already in flight")
        return _InFlight(self._in_flight, worker.instance_id)

    async def _aws_write(self, worker: CMLWorker, action: str, call: Awaitable[object]) -> None:
        try:
            await call
        except AwsActionError as exc:
            self._audit(worker, action, "failed", self.clock.now(), error=str(exc))
            raise ActionFailed(f"{worker.name}: {action.replace('_', ' ')} failed: {exc}") from exc

    async def _record(
        self,
        worker: CMLWorker,
        action: str,
        tags: dict[str, str],
        at: datetime,
        detail: dict[str, object],
    ) -> None:
        """Write the history tags and audit the action; the stop or start stands either way."""
        try:
            await self.aws.create_tags(worker.region, worker.instance_id, tags)
        except AwsActionError as exc:
            message = f"{worker.name}: history tags not written: {exc}"
            self.warnings.append(message)
            log.warning("%s", message)
            self._audit(
                worker, action, "ok, history tags not written", at, error=str(exc), detail=detail
            )
            return
        worker.tags.update(tags)
        self._audit(worker, action, "ok", at, detail=detail)

    def _audit(
        self,
        worker: CMLWorker,
        action: str,
        result: str,
        at: datetime,
        *,
        error: str | None = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        self.audit.record(
            at=at,
            operator=SYSTEM_ACTOR if action == "auto_pause" else self.operator,
            action=action,
            worker_id=worker.instance_id,
            worker_name=worker.name,
            region=worker.region,
            result=result,
            error=error,
            detail=dict(detail) if detail else None,
        )


class _InFlight:
    """Marks a worker busy for the length of one action; a second press is refused."""

    def __init__(self, busy: set[str], worker_id: str) -> None:
        self._busy, self._id = busy, worker_id

    async def __aenter__(self) -> None:
        self._busy.add(self._id)

    async def __aexit__(self, *exc: object) -> None:
        self._busy.discard(self._id)


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
