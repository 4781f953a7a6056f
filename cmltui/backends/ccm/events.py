"""Cloud Manager's minimal events as cmltui's own activity events.

Upstream's payloads are outside data: each field is checked, bounded and parsed (its times may
end in `+00:00Z`); an event without the fields cmltui needs becomes None and is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cmltui.api.events import (
    ActivityEvent,
    ActivityUpdated,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.domain.sanitize import finite_count
from cmltui.mapper import ccm_time

ACTIVITY_TYPES: Final = frozenset(
    {IdleDetectionToggled.type, WorkerPaused.type, WorkerResumed.type, ActivityUpdated.type}
)


def to_activity(kind: str, data: Mapping[str, Any]) -> ActivityEvent | None:
    """Cloud Manager's minimal event as cmltui's own (None when a required field is missing)."""
    worker_id = data.get("worker_id")
    if not isinstance(worker_id, str) or not worker_id:
        return None
    worker_id = worker_id[:128]
    try:
        if kind == IdleDetectionToggled.type:
            at = ccm_time(data.get("toggled_at"))
            if at is None or not isinstance(data.get("is_enabled"), bool):
                return None
            return IdleDetectionToggled(
                worker_id=worker_id,
                is_enabled=data["is_enabled"],
                toggled_by=_actor(data.get("toggled_by")),
                toggled_at=at,
            )
        if kind == WorkerPaused.type:
            at = ccm_time(data.get("paused_at"))
            if at is None:
                return None
            reason = data.get("pause_reason")
            minutes = data.get("idle_duration_minutes")
            return WorkerPaused(
                worker_id=worker_id,
                pause_reason=reason if reason in ("idle_timeout", "manual") else "external",
                paused_by=_actor(data.get("paused_by")),
                paused_at=at,
                auto_pause_count=finite_count(data.get("auto_pause_count")),
                manual_pause_count=finite_count(data.get("manual_pause_count")),
                idle_duration_minutes=(
                    float(minutes)
                    if isinstance(minutes, int | float) and not isinstance(minutes, bool)
                    else None
                ),
            )
        if kind == WorkerResumed.type:
            at = ccm_time(data.get("resumed_at"))
            if at is None:
                return None
            reason = data.get("resume_reason")
            return WorkerResumed(
                worker_id=worker_id,
                resume_reason=reason if reason in ("manual", "auto") else "external",
                resumed_by=_actor(data.get("resumed_by")),
                resumed_at=at,
                auto_resume_count=finite_count(data.get("auto_resume_count")),
                manual_resume_count=finite_count(data.get("manual_resume_count")),
                was_auto_paused=data.get("was_auto_paused") is True,
            )
        if kind == ActivityUpdated.type:
            check = ccm_time(data.get("last_activity_check_at"))
            if check is None:
                return None
            return ActivityUpdated(
                worker_id=worker_id,
                last_activity_at=ccm_time(data.get("last_activity_at")),
                last_activity_check_at=check,
                next_idle_check_at=ccm_time(data.get("next_idle_check_at")),
                target_pause_at=ccm_time(data.get("target_pause_at")),
            )
    except ValueError:  # pydantic's ValidationError: a value of the wrong kind
        return None
    return None


def _actor(value: Any) -> str:
    return value[:120] if isinstance(value, str) and value else "unknown"
