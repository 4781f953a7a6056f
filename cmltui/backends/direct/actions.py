"""Operator actions: toggle idle detection, pause, resume, and pause of many (README, "Keys").

Each action checks the one precondition rule (`cmltui.domain.rules`), re-reads the instance's
state right before a stop or start, writes a durable audit "intent" line, calls AWS, records
what it wrote in the registry (so a stale listing cannot undo it), audits the result, and
publishes its minimal activity event on the core's activity channel (and returns it). None
builds a snapshot. Read-only mode blocks every AWS write, even when an action is invoked from
code; an audit log that cannot be written blocks it too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from cmltui.api.backend import ActionFailed, ActionRefused
from cmltui.api.events import (
    ActivityEvent,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
    held_from_event,
)
from cmltui.audit import AuditLog, AuditUnavailable
from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.credentials import local_user
from cmltui.domain import idle
from cmltui.domain.enums import SYSTEM_ACTOR, PauseReason, WorkerStatus
from cmltui.domain.registry import WorkerRegistry
from cmltui.domain.rules import ActionKind, action_refusal
from cmltui.domain.status import license_status
from cmltui.domain.tags import (
    IDLE_DETECTION_TAG,
    IDLE_DISABLED,
    IDLE_ENABLED,
    pause_tags,
    resume_tags,
)
from cmltui.domain.worker import CMLWorker, PauseHistory
from cmltui.sources.aws import AwsSource
from cmltui.sources.aws_accounts import AwsAccounts
from cmltui.sources.aws_errors import AwsActionError

log = logging.getLogger(__name__)

T = TypeVar("T")


class Actions:
    def __init__(
        self,
        *,
        config: Config,
        registry: WorkerRegistry,
        aws: AwsSource | AwsAccounts,
        clock: Clock,
        audit: AuditLog,
        operator: str | None = None,
        read_soon: Callable[[str], None] | None = None,
        publish: Callable[[ActivityEvent], None] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        # Told the worker id after each AWS write that went through, so the collector reads
        # that worker's slow facts on its next cycle instead of at their cadence.
        self.read_soon = read_soon or (lambda _worker_id: None)
        self.publish = publish or (lambda _event: None)  # the core's activity channel
        self.warn = warn or (lambda _message: None)  # e.g. history tags that were not written
        self.registry = registry
        self.aws = AwsAccounts.of(aws)
        self.clock = clock
        self.audit = audit
        self.operator = operator or local_user()
        # Each account's own caller (STS), once known; until then `operator`.
        self._operators: dict[str | None, str] = {}
        self._in_flight: set[str] = set()

    def set_operator(self, name: str, account: str | None = None) -> None:
        """The name recorded from now on for that account's workers (its STS caller)."""
        self._operators[account] = name
        if account == self.aws.primary.account:
            self.operator = name

    def operator_for(self, worker: CMLWorker) -> str:
        """Who acts on this worker: its account's AWS caller, else the local user."""
        return self._operators.get(worker.account, self.operator)

    def _aws(self, worker: CMLWorker) -> AwsSource:
        """The worker's own account: every call about it goes there."""
        return self.aws.source(worker.account)

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
        worker = self.worker(worker_id)
        action: ActionKind = "toggle_idle_detection"
        new_value = not shown_enabled
        with self.guard([worker], action, sets_detection=new_value):
            now = self.clock.now()
            tag_value = IDLE_ENABLED if new_value else IDLE_DISABLED
            detail = {"is_enabled": new_value}
            self.intent(worker, action, now, detail)
            await self._aws_write(
                [worker],
                action,
                self._aws(worker).create_tags(
                    worker.region, worker.instance_id, {IDLE_DETECTION_TAG: tag_value}
                ),
            )
            worker.write_tags({IDLE_DETECTION_TAG: tag_value}, now)
            self.read_soon(worker.key)
            self.audit_line(worker, action, "ok", now, detail=detail)
            event = IdleDetectionToggled(
                worker_id=worker.key,
                is_enabled=new_value,
                toggled_by=self.operator_for(worker),
                toggled_at=now,
            )
            self.publish(event)
            return event

    # -- pause ---------------------------------------------------------------------------------

    async def pause(
        self, worker_id: str, *, reason: PauseReason = PauseReason.MANUAL, by: str | None = None
    ) -> WorkerPaused:
        paused = await self._pause([self.worker(worker_id)], reason=reason, by=by, bulk=False)
        return paused[0]

    async def pause_many(self, worker_ids: list[str]) -> list[WorkerPaused]:
        """Pause several running workers after one confirmation: one StopInstances per region.

        Workers that may not be paused (not running any more, in flight) are skipped with a
        warning; the others go ahead.
        """
        workers: list[CMLWorker] = []
        problems: list[str] = []
        for worker_id in dict.fromkeys(worker_ids):
            worker = self.worker(worker_id)
            why = self.refusal(worker, "pause")
            if why is not None:
                problems.append(f"not paused: {why}")
                self.warn(problems[-1])
                continue
            workers.append(worker)
        if not workers:
            raise ActionRefused("no worker in the selection can be paused")
        by_scope: dict[tuple[str | None, str], list[CMLWorker]] = {}
        for worker in workers:
            by_scope.setdefault((worker.account, worker.region), []).append(worker)
        events: list[WorkerPaused] = []
        for group in by_scope.values():
            try:
                events += await self._pause(group, reason=PauseReason.MANUAL, by=None, bulk=True)
            except (ActionRefused, ActionFailed) as exc:
                problems.append(str(exc))
                self.warn(problems[-1])
        if not events:
            raise ActionFailed("no worker was paused: " + "; ".join(problems[-3:]))
        return events

    async def _pause(
        self,
        workers: list[CMLWorker],
        *,
        reason: PauseReason,
        by: str | None,
        bulk: bool,
    ) -> list[WorkerPaused]:
        """Stop the workers (all of one account and region) in one call, then write each one's
        history."""
        action: ActionKind = "auto_pause" if reason is PauseReason.IDLE_TIMEOUT else "pause"
        auto = reason is PauseReason.IDLE_TIMEOUT
        actor = by or (SYSTEM_ACTOR if auto else self.operator_for(workers[0]))
        with self.guard(workers, action):
            workers = await self._last_look(workers, action, WorkerStatus.RUNNING, bulk)
            now = self.clock.now()
            idle_minutes = {w.key: idle.idle_minutes(w, now) for w in workers}
            detail = {"reason": reason.value, "by": actor}
            for worker in workers:
                self.intent(worker, action, now, detail)
            await self._aws_write(
                workers,
                action,
                self._aws(workers[0]).stop_instances(
                    workers[0].region, [w.instance_id for w in workers]
                ),
            )
            events = []
            for worker in workers:
                history = replace(
                    worker.history,
                    last_paused_at=now,
                    last_paused_by=actor,
                    pause_reason=reason,
                    auto_pause_count=worker.history.auto_pause_count
                    + (reason is PauseReason.IDLE_TIMEOUT),
                    manual_pause_count=worker.history.manual_pause_count
                    + (reason is PauseReason.MANUAL),
                )
                minutes = idle_minutes[worker.key]
                event = WorkerPaused(
                    worker_id=worker.key,
                    pause_reason=reason.value,
                    paused_by=actor,
                    paused_at=now,
                    auto_pause_count=history.auto_pause_count,
                    manual_pause_count=history.manual_pause_count,
                    idle_duration_minutes=None if minutes is None else round(minutes, 1),
                )
                await self._went_through(
                    worker, action, event, history, pause_tags(history), detail
                )
                events.append(event)
            return events

    # -- resume --------------------------------------------------------------------------------

    async def resume(self, worker_id: str, *, by: str | None = None) -> WorkerResumed:
        worker = self.worker(worker_id)
        action: ActionKind = "resume"
        actor = by or self.operator_for(worker)
        with self.guard([worker], action):
            await self._last_look([worker], action, WorkerStatus.STOPPED, bulk=False)
            now = self.clock.now()
            was_auto_paused = worker.history.pause_reason is PauseReason.IDLE_TIMEOUT
            detail = {"by": actor}
            self.intent(worker, action, now, detail)
            await self._aws_write(
                [worker],
                action,
                self._aws(worker).start_instance(worker.region, worker.instance_id),
            )
            history = replace(
                worker.history,
                last_resumed_at=now,
                last_resumed_by=actor,
                manual_resume_count=worker.history.manual_resume_count + 1,
            )
            event = WorkerResumed(
                worker_id=worker.key,
                resume_reason="manual",
                resumed_by=actor,
                resumed_at=now,
                auto_resume_count=history.auto_resume_count,
                manual_resume_count=history.manual_resume_count,
                was_auto_paused=was_auto_paused,
            )
            await self._went_through(worker, action, event, history, resume_tags(history), detail)
            return event

    # -- helpers -------------------------------------------------------------------------------

    def worker(self, worker_id: str) -> CMLWorker:
        worker = self.registry.get(worker_id)
        if worker is None:
            raise ActionRefused(f"unknown worker {worker_id}")
        return worker

    def refusal(
        self,
        worker: CMLWorker,
        kind: ActionKind,
        lab: LabShown | None = None,
        *,
        sets_detection: bool | None = None,
    ) -> str | None:
        """The precondition rule on the registry's view (the monitor's own writes held): for a
        toggle the worker's own switch, for auto-pause both."""
        settings = self.config.idle_settings()
        detection = (
            idle.detection_enabled_for(worker, settings)
            if sets_detection is not None
            else idle.detection_switched_on(worker.tags, settings)
        )
        return action_refusal(
            kind,
            name=worker.name,
            status=worker.status,
            read_only=self.read_only,
            in_flight=worker.key in self._in_flight,
            idle_detection=detection,
            sets_detection=sets_detection,
            licence=license_status(worker.cml.licensing, now=self.clock.now()),
            lab_title=lab.title if lab else None,
            lab_state=lab.state if lab else None,
        )

    @contextmanager
    def guard(
        self,
        workers: list[CMLWorker],
        kind: ActionKind,
        lab: LabShown | None = None,
        detail: dict[str, object] | None = None,
        *,
        sets_detection: bool | None = None,
    ) -> Iterator[None]:
        """Refuse by the one precondition rule, else mark the workers busy for the action."""
        for worker in workers:
            why = self.refusal(worker, kind, lab, sets_detection=sets_detection)
            if why is not None:
                if self.read_only:
                    self.audit_line(
                        worker,
                        kind,
                        "refused",
                        self.clock.now(),
                        error="read-only mode",
                        detail=detail,
                    )
                raise ActionRefused(why)
        ids = {w.key for w in workers}
        self._in_flight |= ids
        try:
            yield
        finally:
            self._in_flight -= ids

    async def _last_look(
        self, workers: list[CMLWorker], kind: ActionKind, expected: WorkerStatus, bulk: bool
    ) -> list[CMLWorker]:
        """Re-read the instances with one DescribeInstances right before sending, and apply
        the whole precondition rule to what EC2 says now (its state, and for auto-pause its
        idle-detection tag), as well as to the registry's view (already checked).

        A worker stopped or started by someone else while the dialog was open is not acted
        on, so an external stop is never recorded as this operator's pause; a worker another
        admin excluded from idle detection during a held collection is not auto-paused.
        """
        region = workers[0].region
        verb = kind.replace("_", " ")
        try:
            now = await self._aws(workers[0]).instances_now(
                region, [w.instance_id for w in workers]
            )
        except AwsActionError as exc:
            raise ActionFailed(f"{verb} not sent: could not re-read the state: {exc}") from exc
        settings = self.config.idle_settings()
        unchanged = []
        for worker in workers:
            instance = now.get(worker.instance_id)
            status = WorkerStatus.from_ec2(instance.state if instance else None)
            why = action_refusal(
                kind,
                name=worker.name,
                status=status,
                read_only=self.read_only,
                in_flight=False,  # this action's own: `_guard` refused any other
                idle_detection=idle.detection_switched_on(
                    instance.tags if instance else {}, settings
                ),
            )
            if why is None:
                unchanged.append(worker)
                continue
            if status is not expected:
                why = (
                    f"{worker.name} is now {status.value} (changed since it was shown as "
                    f"{expected.value})"
                )
            message = f"{why}; {verb} not sent (read again right before sending)"
            self.audit_line(worker, kind, "refused", self.clock.now(), error=message)
            if not bulk:
                raise ActionRefused(message)
            self.warn(message)
        if not unchanged:
            raise ActionRefused(f"{verb} not sent: every state changed")
        return unchanged

    def intent(
        self, worker: CMLWorker, action: str, at: datetime, detail: dict[str, object]
    ) -> None:
        """The durable line before the call (AWS or CML); if it cannot be written, nothing is
        sent."""
        try:
            self.audit_line(worker, action, "intent", at, detail=detail, required=True)
        except AuditUnavailable as exc:
            raise ActionRefused(f"{action.replace('_', ' ')} not sent: {exc}") from exc

    async def _aws_write(self, workers: list[CMLWorker], action: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except AwsActionError as exc:
            for worker in workers:
                self.audit_line(worker, action, "failed", self.clock.now(), error=str(exc))
            names = ", ".join(w.name for w in workers)
            raise ActionFailed(f"{names}: {action.replace('_', ' ')} failed: {exc}") from exc

    async def _went_through(
        self,
        worker: CMLWorker,
        action: ActionKind,
        event: WorkerPaused | WorkerResumed,
        history: PauseHistory,
        tags: dict[str, str],
        detail: dict[str, object],
    ) -> None:
        """What a stop or start AWS accepted leaves behind: the history (on the worker, then as
        tags), the in-flight state held against stale listings, an early re-read, the audit
        line, and the event on the activity channel."""
        at = event.paused_at if isinstance(event, WorkerPaused) else event.resumed_at
        worker.history = history
        if isinstance(event, WorkerPaused):
            worker.stop_initiated_at = at
        else:
            worker.start_initiated_at = at
        _hold_status(worker, event)
        self.read_soon(worker.key)
        await self._record(worker, action, tags, at, detail)
        self.publish(event)

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
            await self._aws(worker).create_tags(worker.region, worker.instance_id, tags)
        except AwsActionError as exc:
            worker.unwritten_history = worker.history  # still this operator's, for this run
            message = f"{worker.name}: history tags not written: {exc}"
            self.warn(message)
            log.warning("%s", message)
            self.audit_line(
                worker, action, "ok, history tags not written", at, error=str(exc), detail=detail
            )
            return
        worker.write_tags(tags, at)
        worker.unwritten_history = None
        self.audit_line(worker, action, "ok", at, detail=detail)

    def audit_line(
        self,
        worker: CMLWorker,
        action: str,
        result: str,
        at: datetime,
        *,
        error: str | None = None,
        detail: dict[str, object] | None = None,
        required: bool = False,
    ) -> None:
        self.audit.record(
            at=at,
            operator=SYSTEM_ACTOR if action == "auto_pause" else self.operator_for(worker),
            action=action,
            worker_id=worker.instance_id,
            account=worker.account,
            worker_name=worker.name,
            region=worker.region,
            result=result,
            error=error,
            detail=dict(detail) if detail else None,
            required=required,
        )


@dataclass(frozen=True)
class LabShown:
    """A lab as the precondition rule sees it: its title and CML's state (None: not known)."""

    title: str
    state: str | None


def _hold_status(worker: CMLWorker, event: WorkerPaused | WorkerResumed) -> None:
    """The in-flight state a pause or resume implies, held against stale listings.

    Which state, and which listed states confirm it, is the settle table's word
    (`cmltui.domain.settle.EVENT_FIELDS`), the same the Cloud Manager backend holds.
    """
    pending = held_from_event(event)["status"]
    worker.status = WorkerStatus(pending.value)
    worker.pending_status = pending
