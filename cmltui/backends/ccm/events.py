"""Cloud Manager's minimal events as cmltui's own activity events.

Upstream's payloads are outside data: each field is checked, bounded and parsed (its times may
end in `+00:00Z`); an event without the fields cmltui needs becomes None and is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from cmltui.api.events import (
    ActivityEvent,
    ActivityUpdated,
    IdleDetectionToggled,
    LicenceDeregistered,
    LicenceRegistrationCompleted,
    LicenceRegistrationFailed,
    LicenceRegistrationStarted,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.domain.sanitize import finite_count, finite_number
from cmltui.domain.settle import EVENT_TIME_KEY
from cmltui.domain.times import not_ahead, parse_time


def to_activity(kind: str, data: Mapping[str, Any], now: datetime) -> ActivityEvent | None:
    """Cloud Manager's minimal event as cmltui's own (None when a required field is missing).

    When each event happened is read from the key the settle table names for it
    (`cmltui.domain.settle.EVENT_TIME_KEY`): its held values date from then. Activity more than
    a day after `now` is not believed.
    """
    worker_id = data.get("worker_id")
    build = _BUILDERS.get(kind)
    at = parse_time(data.get(EVENT_TIME_KEY.get(kind, "")))
    if not isinstance(worker_id, str) or not worker_id or build is None or at is None:
        return None
    try:
        return build(worker_id[:128], at, data, now)
    except ValueError:  # pydantic's ValidationError: a value of the wrong kind
        return None


def _toggled(
    worker_id: str, at: datetime, data: Mapping[str, Any], _now: datetime
) -> ActivityEvent | None:
    enabled = data.get("is_enabled")
    if not isinstance(enabled, bool):
        return None
    return IdleDetectionToggled(
        worker_id=worker_id,
        is_enabled=enabled,
        toggled_by=_actor(data, "toggled_by"),
        toggled_at=at,
    )


def _paused(
    worker_id: str, at: datetime, data: Mapping[str, Any], _now: datetime
) -> ActivityEvent:
    reason = data.get("pause_reason")
    return WorkerPaused(
        worker_id=worker_id,
        pause_reason=reason if reason in ("idle_timeout", "manual") else "external",
        paused_by=_actor(data, "paused_by"),
        paused_at=at,
        auto_pause_count=finite_count(data.get("auto_pause_count")),
        manual_pause_count=finite_count(data.get("manual_pause_count")),
        idle_duration_minutes=finite_number(data.get("idle_duration_minutes")),
    )


def _resumed(
    worker_id: str, at: datetime, data: Mapping[str, Any], _now: datetime
) -> ActivityEvent:
    reason = data.get("resume_reason")
    return WorkerResumed(
        worker_id=worker_id,
        resume_reason=reason if reason in ("manual", "auto") else "external",
        resumed_by=_actor(data, "resumed_by"),
        resumed_at=at,
        auto_resume_count=finite_count(data.get("auto_resume_count")),
        manual_resume_count=finite_count(data.get("manual_resume_count")),
        was_auto_paused=data.get("was_auto_paused") is True,
    )


def _activity(
    worker_id: str, at: datetime, data: Mapping[str, Any], now: datetime
) -> ActivityEvent:
    return ActivityUpdated(
        worker_id=worker_id,
        last_activity_at=not_ahead(parse_time(data.get("last_activity_at")), now),
        last_activity_check_at=at,
        next_idle_check_at=parse_time(data.get("next_idle_check_at")),
        target_pause_at=parse_time(data.get("target_pause_at")),
    )


def _registration_started(
    worker_id: str, at: datetime, data: Mapping[str, Any], _now: datetime
) -> ActivityEvent:
    return LicenceRegistrationStarted(
        worker_id=worker_id, started_at=at, initiated_by=_actor(data, "initiated_by")
    )


def _registration_completed(
    worker_id: str, at: datetime, data: Mapping[str, Any], _now: datetime
) -> ActivityEvent:
    return LicenceRegistrationCompleted(
        worker_id=worker_id,
        registration_status=_short(data.get("registration_status"), 60),
        completed_at=at,
    )


def _registration_failed(
    worker_id: str, at: datetime, data: Mapping[str, Any], _now: datetime
) -> ActivityEvent:
    return LicenceRegistrationFailed(
        worker_id=worker_id,
        error_message=_short(data.get("error_message"), 500) or "no reason given",
        failed_at=at,
    )


def _deregistered(
    worker_id: str, at: datetime, data: Mapping[str, Any], _now: datetime
) -> ActivityEvent:
    return LicenceDeregistered(
        worker_id=worker_id, deregistered_at=at, initiated_by=_actor(data, "initiated_by")
    )


def _short(value: Any, limit: int) -> str | None:
    return " ".join(value.split())[:limit] if isinstance(value, str) and value.strip() else None


def _actor(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value[:120] if isinstance(value, str) and value else "unknown"


_BUILDERS: Final[
    Mapping[str, Callable[[str, datetime, Mapping[str, Any], datetime], ActivityEvent | None]]
] = {
    IdleDetectionToggled.type: _toggled,
    WorkerPaused.type: _paused,
    WorkerResumed.type: _resumed,
    ActivityUpdated.type: _activity,
    LicenceRegistrationStarted.type: _registration_started,
    LicenceRegistrationCompleted.type: _registration_completed,
    LicenceRegistrationFailed.type: _registration_failed,
    LicenceDeregistered.type: _deregistered,
}
ACTIVITY_TYPES: Final = frozenset(_BUILDERS)
