"""Cloud Manager's minimal events as cmltui's own activity events.

Upstream's payloads are outside data: each field is checked, bounded and parsed (its times may
end in `+00:00Z`); an event without the fields cmltui needs becomes None and is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from cmltui.api.events import (
    ActivityEvent,
    ActivityUpdated,
    IdleDetectionToggled,
    LicenceChanged,
    LicenceStep,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.domain.enums import PauseReason
from cmltui.domain.sanitize import error_text, finite_count, finite_number
from cmltui.domain.settle import EVENT_TIME_KEY
from cmltui.domain.times import not_ahead, parse_time
from cmltui.mapper import ccm_pause_reason

MAX_ID_CHARS: Final = 128
"""A longer worker id is refused, never cut (two ids sharing a prefix must not merge)."""


def worker_id_of(value: Any) -> str | None:
    """A worker id as Cloud Manager sends it: a non-empty string no longer than the limit."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS else None


def to_activity(kind: str, data: Mapping[str, Any], now: datetime) -> ActivityEvent | None:
    """Cloud Manager's minimal event as cmltui's own (None when a required field is missing).

    When each event happened is read from the key the settle table names for it
    (`cmltui.domain.settle.EVENT_TIME_KEY`): its held values date from then. Activity more than
    a day after `now` is not believed.
    """
    worker_id = worker_id_of(data.get("worker_id"))
    build = _BUILDERS.get(kind)
    at = parse_time(data.get(EVENT_TIME_KEY.get(kind, "")))
    if worker_id is None or build is None or at is None:
        return None
    try:
        return build(worker_id, at, data, now)
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


def _paused(worker_id: str, at: datetime, data: Mapping[str, Any], _now: datetime) -> ActivityEvent:
    reason = ccm_pause_reason(data.get("pause_reason"))
    return WorkerPaused(
        worker_id=worker_id,
        pause_reason=(reason or PauseReason.EXTERNAL).value,
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


def _actor(data: Mapping[str, Any], key: str) -> str | None:
    """Who acted; None when Cloud Manager does not say (its REST stop and start pass no user,
    so their `paused_by` and `resumed_by` are null)."""
    value = data.get(key)
    return value[:120] if isinstance(value, str) and value else None


_BUILDERS: Final[
    Mapping[str, Callable[[str, datetime, Mapping[str, Any], datetime], ActivityEvent | None]]
] = {
    IdleDetectionToggled.type: _toggled,
    WorkerPaused.type: _paused,
    WorkerResumed.type: _resumed,
    ActivityUpdated.type: _activity,
}
ACTIVITY_TYPES: Final = frozenset(_BUILDERS)

# Upstream's licence events (`application/events/domain/cml_worker_license_events.py`): the
# step each names, the key of its time, and the key of what it says.
_LICENCE: Final[Mapping[str, tuple[LicenceStep, str, str | None]]] = {
    "worker.license.registration.started": ("registration started", "started_at", None),
    "worker.license.registration.completed": (
        "registration completed",
        "completed_at",
        "registration_status",
    ),
    "worker.license.registration.failed": ("registration failed", "failed_at", "error_message"),
    # Handled upstream, but sent only by `CMLWorker.deregister_license()`, which nothing calls
    # (a deregistration's job sends no licence event: `operations.py` answers at its 202).
    "worker.license.deregistered": ("deregistered", "deregistered_at", None),
}
LICENCE_TYPES: Final = frozenset(_LICENCE)
CLOUD_MANAGER: Final = "Cloud Manager"
"""Who a licence event names when Cloud Manager's does not say and cmltui did not see who
started the job (upstream's `completed` and `failed` carry no user)."""


def to_licence_event(
    kind: str, data: Mapping[str, Any], now: datetime, secrets: Iterable[str] = ()
) -> LicenceChanged | None:
    """A licence event for the activity log; its time, when unusable, is when it came. What
    it says has `secrets` (tokens this cmltui is sending: CML's reason may repeat them) cut out
    before it is shortened."""
    worker_id = worker_id_of(data.get("worker_id"))
    if worker_id is None or kind not in _LICENCE:
        return None
    step, time_key, detail_key = _LICENCE[kind]
    detail = data.get(detail_key) if detail_key else None
    by = data.get("initiated_by")
    return LicenceChanged(
        worker_id=worker_id,
        step=step,
        at=not_ahead(parse_time(data.get(time_key)), now) or now,
        by=by[:120] if isinstance(by, str) and by else None,
        detail=error_text(detail, secrets=secrets) if isinstance(detail, str) and detail else None,
    )
