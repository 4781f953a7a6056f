"""Changes the collector sees on AWS that this cmltui did not make, as activity events.

Another operator's cmltui (or the AWS console) toggles idle detection, pauses or resumes a
worker: the next listing shows a new `cmltui:idle-detection` tag, or newer pause or resume
history (from the `cmltui:*` tags, or a stop or start derived from EC2). Each becomes the same
minimal event this cmltui's own action would have published, so `cmltui watch` and the
activity log hear of it within one cycle. This cmltui's own writes are already in the registry
when the listing confirms them, so they never come back as a second event.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from cmltui.api.events import ActivityEvent, IdleDetectionToggled, WorkerPaused, WorkerResumed
from cmltui.domain import idle
from cmltui.domain.enums import PauseReason
from cmltui.domain.tags import IDLE_DETECTION_TAG
from cmltui.domain.worker import CMLWorker

SOMEONE_ELSE = "external"
"""Who made a change seen on AWS, when its tags do not say (the console, a script)."""


class Seen(NamedTuple):
    """What a listing showed of the worker's switches and history (cheap: three reads)."""

    idle_tag: str | None
    last_paused_at: datetime | None
    last_resumed_at: datetime | None


def seen(worker: CMLWorker) -> Seen:
    history = worker.history
    return Seen(
        worker.tags.get(IDLE_DETECTION_TAG), history.last_paused_at, history.last_resumed_at
    )


def changes(
    before: Seen, worker: CMLWorker, settings: idle.IdleSettings, now: datetime
) -> list[ActivityEvent]:
    """The events for what changed between two listings of a worker (usually none)."""
    after = seen(worker)
    if after == before:
        return []
    events: list[ActivityEvent] = []
    was = idle.detection_enabled_by({IDLE_DETECTION_TAG: before.idle_tag or ""}, settings)
    enabled = idle.detection_enabled_for(worker, settings)
    if before.idle_tag != after.idle_tag and was != enabled:
        events.append(
            IdleDetectionToggled(
                worker_id=worker.key, is_enabled=enabled, toggled_by=SOMEONE_ELSE, toggled_at=now
            )
        )
    history = worker.history
    if _later(after.last_paused_at, before.last_paused_at):
        assert history.last_paused_at is not None
        events.append(
            WorkerPaused(
                worker_id=worker.key,
                pause_reason=(history.pause_reason or PauseReason.EXTERNAL).value,
                paused_by=history.last_paused_by or SOMEONE_ELSE,
                paused_at=history.last_paused_at,
                auto_pause_count=history.auto_pause_count,
                manual_pause_count=history.manual_pause_count,
                idle_duration_minutes=None,
            )
        )
    if _later(after.last_resumed_at, before.last_resumed_at):
        assert history.last_resumed_at is not None
        events.append(
            WorkerResumed(
                worker_id=worker.key,
                resume_reason="manual" if history.last_resumed_by else "external",
                resumed_by=history.last_resumed_by or SOMEONE_ELSE,
                resumed_at=history.last_resumed_at,
                auto_resume_count=history.auto_resume_count,
                manual_resume_count=history.manual_resume_count,
                was_auto_paused=history.pause_reason is PauseReason.IDLE_TIMEOUT,
            )
        )
    return events


def _later(after: datetime | None, before: datetime | None) -> bool:
    return after is not None and (before is None or after > before)
