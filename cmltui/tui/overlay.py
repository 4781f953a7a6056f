"""The settle rule (SPEC §1): event patches over snapshot values, as a small pure module.

An activity event patches a few fields of one worker. The patched value stays on screen until a
snapshot agrees with it, or until a snapshot whose collection started later than the event plus
the settle time still disagrees (someone else changed it back). Each widget keeps an `Overlay`
for its own fields only, so an event can never touch what a widget does not own.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from cmltui.api.events import (
    ActivityEvent,
    ActivityUpdated,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
    event_time,
)

STOPPING: Final = "stopping…"
STARTING: Final = "starting…"
IN_FLIGHT_FIELD: Final = "status"
"""The row's status column carries the in-flight marker until a snapshot confirms the action."""

IDLE_FIELDS: Final = frozenset(
    {
        "is_idle_detection_enabled",
        "last_activity_at",
        "last_activity_check_at",
        "next_idle_check_at",
        "target_pause_at",
    }
)
PAUSE_FIELDS: Final = frozenset(
    {
        IN_FLIGHT_FIELD,
        "last_paused_at",
        "paused_by",
        "pause_reason",
        "auto_pause_count",
        "manual_pause_count",
        "last_resumed_at",
        "resumed_by",
        "auto_resume_count",
        "manual_resume_count",
    }
)
DETECTION_FIELD: Final = "is_idle_detection_enabled"
ROW_FIELDS: Final = frozenset({IN_FLIGHT_FIELD, DETECTION_FIELD})

_STOP_CONFIRMS: Final = frozenset({"stopping", "stopped", "shutting-down", "terminated"})
_START_CONFIRMS: Final = frozenset({"pending", "running"})


@dataclass(frozen=True)
class Patch:
    """One field's value from an event, with the event's time."""

    value: Any
    at: datetime
    confirms: frozenset[Any] | None = None  # snapshot values that agree; default {value}

    def agrees_with(self, snapshot_value: Any) -> bool:
        if self.confirms is not None:
            return _norm(snapshot_value) in self.confirms
        return _norm(snapshot_value) == _norm(self.value)


def patches_from_event(event: ActivityEvent) -> dict[str, Patch]:
    """Every field an event carries, as patches (widgets keep only the ones they own)."""
    at = event_time(event)
    if at is None:
        return {}
    if isinstance(event, IdleDetectionToggled):
        return {"is_idle_detection_enabled": Patch(event.is_enabled, at)}
    if isinstance(event, WorkerPaused):
        return {
            IN_FLIGHT_FIELD: Patch(STOPPING, at, _STOP_CONFIRMS),
            "last_paused_at": Patch(event.paused_at, at),
            "paused_by": Patch(event.paused_by, at),
            "pause_reason": Patch(event.pause_reason, at),
            "auto_pause_count": Patch(event.auto_pause_count, at),
            "manual_pause_count": Patch(event.manual_pause_count, at),
        }
    if isinstance(event, WorkerResumed):
        return {
            IN_FLIGHT_FIELD: Patch(STARTING, at, _START_CONFIRMS),
            "last_resumed_at": Patch(event.resumed_at, at),
            "resumed_by": Patch(event.resumed_by, at),
            "auto_resume_count": Patch(event.auto_resume_count, at),
            "manual_resume_count": Patch(event.manual_resume_count, at),
        }
    if isinstance(event, ActivityUpdated):
        return {
            "last_activity_at": Patch(event.last_activity_at, at),
            "last_activity_check_at": Patch(event.last_activity_check_at, at),
            "next_idle_check_at": Patch(event.next_idle_check_at, at),
            "target_pause_at": Patch(event.target_pause_at, at),
        }
    return {}


class Overlay:
    """Patches of some fields of many workers, reconciled against snapshots."""

    def __init__(self, fields: Iterable[str], settle: timedelta) -> None:
        self._fields = frozenset(fields)
        self._settle = settle
        self._patches: dict[str, dict[str, Patch]] = {}

    def apply(self, event: ActivityEvent) -> bool:
        """Keep the event's own fields that this overlay owns; True when anything was kept."""
        owned = {k: v for k, v in patches_from_event(event).items() if k in self._fields}
        if owned:
            self._patches.setdefault(event.worker_id, {}).update(owned)
        return bool(owned)

    def reconcile(
        self, worker_id: str, snapshot_values: Mapping[str, Any], collected_at: datetime
    ) -> None:
        """Drop the patches a snapshot agrees with, or that it overrides by the settle rule."""
        patches = self._patches.get(worker_id)
        if not patches:
            return
        for name, patch in list(patches.items()):
            if name not in snapshot_values:
                continue
            if patch.agrees_with(snapshot_values[name]) or collected_at > patch.at + self._settle:
                del patches[name]
        if not patches:
            del self._patches[worker_id]

    def value(self, worker_id: str, name: str, snapshot_value: Any) -> Any:
        """What to show: the patch while it stands, else the snapshot's value."""
        patch = self._patches.get(worker_id, {}).get(name)
        return snapshot_value if patch is None else patch.value

    def patched(self, worker_id: str, name: str) -> bool:
        return name in self._patches.get(worker_id, {})

    def patched_workers(self) -> list[str]:
        """Workers with standing patches: the only ones a snapshot has to reconcile."""
        return list(self._patches)

    def forget_except(self, worker_ids: Container[str]) -> None:
        """Drop patches of workers no longer listed (a mapping or set is checked in place)."""
        for worker_id in [w for w in self._patches if w not in worker_ids]:
            del self._patches[worker_id]


def _norm(value: Any) -> Any:
    """Tags keep whole seconds: compare datetimes at second precision; enums by value."""
    if isinstance(value, datetime):
        return value.replace(microsecond=0)
    return getattr(value, "value", value)
