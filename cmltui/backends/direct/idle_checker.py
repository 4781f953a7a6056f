"""The idle checker: the only reader of CML telemetry, and the auto-pauser.

On each tick it checks the workers whose check is due (never-checked workers first, the rest
spread across the activity interval), updates their activity state in the shared registry,
emits `worker.activity.updated`, and — when auto-pause is on and not read-only — pauses each
eligible worker once per idle episode. It never builds a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime

from cmltui.api.backend import ActionFailed, ActionRefused
from cmltui.api.events import ActivityEvent, ActivityUpdated
from cmltui.backends.direct.actions import Actions
from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.domain import idle
from cmltui.domain.enums import PauseReason
from cmltui.domain.idle import TelemetryEvent, scan_telemetry
from cmltui.domain.registry import WorkerRegistry
from cmltui.domain.sanitize import error_text
from cmltui.domain.times import time_problem
from cmltui.domain.worker import CMLWorker
from cmltui.sources.cml_client import CMLClient, CMLError, CMLTarget

log = logging.getLogger(__name__)

Publish = Callable[[ActivityEvent], None]
TargetLookup = Callable[[str], CMLTarget | None]


class IdleChecker:
    def __init__(
        self,
        *,
        config: Config,
        registry: WorkerRegistry,
        cml: CMLClient,
        targets: TargetLookup,
        clock: Clock,
        actions: Actions,
        publish: Publish,
        tick_seconds: float = 5.0,
    ) -> None:
        self.config = config
        self.registry = registry
        self.cml = cml
        self.targets = targets
        self.clock = clock
        self.actions = actions
        self.publish = publish
        self.tick_seconds = tick_seconds
        self.errors: dict[str, str] = {}

    @property
    def settings(self) -> idle.IdleSettings:
        return self.config.idle_settings()

    def due_workers(self, now: datetime) -> list[CMLWorker]:
        """Workers to check now: every never-tried one, plus an even share of the rest.

        Pacing uses the last attempt, so a worker whose telemetry fails is retried once per
        interval, not on every tick.
        """
        settings = self.settings
        interval = settings.check_interval
        candidates = [w for w in self.registry if idle.detection_active(w, settings)]
        fresh = [w for w in candidates if w.activity.last_check_attempt_at is None]
        due = [
            w
            for w in candidates
            if w.activity.last_check_attempt_at is not None
            and w.activity.last_check_attempt_at + interval <= now
        ]
        due.sort(key=lambda w: w.activity.last_check_attempt_at or now)
        per_tick = len(candidates) * self.tick_seconds / max(interval.total_seconds(), 1.0)
        return fresh + due[: max(1, math.ceil(per_tick))]

    async def check_due(self, *, act: bool = True) -> list[ActivityEvent]:
        """Check the workers due now; with `act` False only read (a snapshot never pauses)."""
        now = self.clock.now()
        workers = self.due_workers(now)
        results = await asyncio.gather(*(self.check_worker(w, act=act) for w in workers))
        return [event for batch in results for event in batch]

    async def check_worker(self, worker: CMLWorker, *, act: bool = True) -> list[ActivityEvent]:
        """Read telemetry, update activity, maybe auto-pause (unless `act` is False). Returns
        the events published."""
        events: list[ActivityEvent] = []
        target = self.targets(worker.key)
        if target is None or not worker.is_running:
            return events
        worker.activity.last_check_attempt_at = self.clock.now()
        try:
            raw = await self.cml.fetch_telemetry(target)
        except CMLError as exc:
            self.errors[worker.key] = exc.message
            worker.errors["telemetry"] = exc.message
            return events
        now = self.clock.now()
        self.errors.pop(worker.key, None)
        scan = scan_telemetry(
            (TelemetryEvent(e.category, e.timestamp or e.unusable_time, e.data) for e in raw),
            worker.activity.high_water_mark,
            now,
        )
        if scan.skipped_count:
            times = "; ".join(time_problem("timestamp", t) for t in scan.skipped)
            worker.errors["telemetry"] = error_text(
                f"{scan.skipped_count} event(s) skipped, unusable or over a day ahead: {times}"
            )
        else:
            worker.errors.pop("telemetry", None)
        activity = worker.activity
        activity.high_water_mark = scan.high_water_mark
        if scan.newest_activity_at is not None and (
            activity.last_activity_at is None or scan.newest_activity_at > activity.last_activity_at
        ):
            activity.last_activity_at = scan.newest_activity_at
        if scan.user_ids:
            merged = list(dict.fromkeys((*scan.user_ids, *activity.recent_user_ids)))
            activity.recent_user_ids = tuple(merged[:10])
        activity.last_activity_check_at = now
        settings = self.settings
        update = ActivityUpdated(
            worker_id=worker.key,
            last_activity_at=activity.last_activity_at,
            last_activity_check_at=now,
            next_idle_check_at=idle.next_idle_check_at(worker, settings, now),
            target_pause_at=idle.target_pause_at(worker, settings),
        )
        self.publish(update)
        events.append(update)
        paused = await self._maybe_auto_pause(worker, now) if act else None
        if paused is not None:
            events.append(paused)
        return events

    async def _maybe_auto_pause(self, worker: CMLWorker, now: datetime) -> ActivityEvent | None:
        settings = self.settings
        if not settings.auto_pause or self.config.read_only:
            return None
        if not idle.eligible_for_auto_pause(worker, settings, now):
            worker.errors.pop("auto_pause", None)  # a refusal said why; it no longer applies
            return None
        episode = idle.reference_time(worker)
        if episode is not None and worker.activity.auto_paused_episode == episode:
            return None  # once per idle episode
        try:
            event = await self.actions.pause(worker.key, reason=PauseReason.IDLE_TIMEOUT)
        except (ActionRefused, ActionFailed) as exc:
            log.warning("auto-pause of %s not done: %s", worker.key, exc)
            worker.errors["auto_pause"] = str(exc)
            return None
        worker.activity.auto_paused_episode = episode
        worker.errors.pop("auto_pause", None)
        return event  # the pause published its own event
