"""The two kinds of message (README, "How it is built").

Snapshots (`worker.snapshot`, full DTOs) come only from the collector. Activity events are
minimal: they carry exactly their own fields, and a receiver patches only those.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from cmltui.api.cost import CostTotals, cost_totals
from cmltui.api.dto import CMLWorkerDto, UtcDateTime, worker_dto_to_dict
from cmltui.domain import settle
from cmltui.domain.settle import PendingWrite

ACTIVITY_SOURCE = "domain.worker_activity"
SNAPSHOT_SOURCE = "domain.cml_worker.snapshot"


class ActivityEvent(BaseModel):
    """Base of the minimal activity events; `to_dict` gives {type, source, data}."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    type: ClassVar[str]
    source: ClassVar[str] = ACTIVITY_SOURCE

    worker_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "source": self.source, "data": self.model_dump(mode="json")}


class IdleDetectionToggled(ActivityEvent):
    type: ClassVar[str] = "worker.idle_detection.toggled"
    is_enabled: bool
    toggled_by: str | None  # None: the source did not say (a Cloud Manager may not)
    toggled_at: UtcDateTime


class WorkerPaused(ActivityEvent):
    type: ClassVar[str] = "worker.paused"
    pause_reason: Literal["idle_timeout", "manual", "external"]
    paused_by: str | None  # None: Cloud Manager's REST stop passes no user
    paused_at: UtcDateTime
    auto_pause_count: int
    manual_pause_count: int
    idle_duration_minutes: float | None


class WorkerResumed(ActivityEvent):
    type: ClassVar[str] = "worker.resumed"
    resume_reason: Literal["manual", "auto", "external"]
    resumed_by: str | None
    resumed_at: UtcDateTime
    auto_resume_count: int
    manual_resume_count: int
    was_auto_paused: bool


class LabChanged(ActivityEvent):
    """A lab stopped, started or wiped through cmltui; `lab_state` is CML's word for it read
    right after (None when it was not read: Cloud Manager reports it later)."""

    type: ClassVar[str] = "worker.lab.changed"
    lab_id: str
    lab_title: str | None
    action: Literal["stop", "start", "wipe"]
    lab_state: str | None
    changed_by: str
    changed_at: UtcDateTime


LicenceStep = Literal[
    "registration started", "registration completed", "registration failed", "deregistered"
]


class LicenceChanged(ActivityEvent):
    """A licence operation on a worker: registration started, completed or failed, or the
    licence deregistered (upstream Cloud Manager's `worker.license.*` events, and the direct
    backend's own). `detail` (a status, an error message, a note) is outside text, shown as
    data; the token is never part of an event."""

    type: ClassVar[str] = "worker.license"
    step: LicenceStep
    at: UtcDateTime
    by: str | None
    detail: str | None


class ActivityUpdated(ActivityEvent):
    type: ClassVar[str] = "worker.activity.updated"
    last_activity_at: UtcDateTime | None
    last_activity_check_at: UtcDateTime
    next_idle_check_at: UtcDateTime | None
    target_pause_at: UtcDateTime | None


class FleetSnapshot(BaseModel):
    """One collector cycle: every worker's full DTO, stamped with the cycle's start time."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    type: ClassVar[str] = "worker.snapshot"
    source: ClassVar[str] = SNAPSHOT_SOURCE

    collected_at: UtcDateTime
    next_refresh_at: UtcDateTime | None = None
    workers: tuple[CMLWorkerDto, ...]
    errors: tuple[str, ...] = ()

    def listed_nothing(self, listings: int) -> bool:
        """A failed collection: no worker, and an error for every one of its `listings`
        ((account, region) pairs: `BackendContext.listing_count`), such as no credentials,
        access denied, endpoint unreachable. Its figures are unknown, not zero: a region that
        listed no worker has no error and counts as listed."""
        return not self.workers and bool(self.errors) and len(self.errors) >= max(1, listings)

    def cost(self) -> CostTotals:
        """Fleet burn, idle burn and savings, derived from the workers (never stored apart)."""
        return cost_totals(self.workers)

    def to_dict(self) -> dict[str, Any]:
        """The `snapshot --format json` object: {collected_at, fleet, workers, errors}."""
        return {
            "collected_at": self.collected_at.isoformat(),
            "fleet": self.cost().to_dict(),
            "workers": [worker_dto_to_dict(dto) for dto in self.workers],
            "errors": list(self.errors),
        }

    def event_dicts(self) -> list[dict[str, Any]]:
        """One `worker.snapshot` event per worker, each carrying the full DTO."""
        return [
            {"type": self.type, "source": self.source, "data": worker_dto_to_dict(dto)}
            for dto in self.workers
        ]


def event_time(event: ActivityEvent) -> datetime | None:
    """When an activity event happened, for the settle rule (`domain.settle.EVENT_TIME_KEY`)."""
    return settle.event_time(event.type, dict(event))


def held_from_event(event: ActivityEvent) -> dict[str, PendingWrite[Any]]:
    """The DTO fields an event sets, held from its time (`domain.settle.EVENT_FIELDS`)."""
    return settle.held_from_event(event.type, dict(event))
