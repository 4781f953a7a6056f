"""The settle rule: a stale read never undoes the monitor's own write, in the core or on screen.

EC2 tags and states are eventually consistent, a collection may start before an action and
finish after it, and a Cloud Manager snapshot may have been read before the event that changed
it. So every value cmltui writes, or an activity event sets, is held as a `PendingWrite`. A
later read confirms it (shows the held value, or one of its `confirms`) or, once the read
started later than the write plus the settle time and still disagrees, overrides it: someone
else changed it back. Until then the held value stands for the idle checker, auto-pause, the
DTO and every widget.

This module is the rule's one home: the held-value type, the confirm sets, and `EVENT_FIELDS`,
the one table of which DTO fields each activity event sets. The direct backend, the Cloud
Manager backend and the dashboard's view-model all ask it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final, Generic, TypeVar

from cmltui.domain.enums import LicenseStatus, WorkerStatus

V = TypeVar("V")

STOP_CONFIRMS: Final = frozenset(
    {
        WorkerStatus.STOPPING,
        WorkerStatus.STOPPED,
        WorkerStatus.SHUTTING_DOWN,
        WorkerStatus.TERMINATED,
    }
)
"""Listed states that agree with a stop cmltui sent (it went on past `stopping`)."""
START_CONFIRMS: Final = frozenset({WorkerStatus.PENDING, WorkerStatus.RUNNING})
"""Listed states that agree with a start cmltui sent."""
LAB_RUNNING: Final = frozenset({"STARTED", "QUEUED", "BOOTED"})
"""CML lab states in which a node runs or is about to."""
LAB_CONFIRMS: Final[Mapping[str, frozenset[str]]] = {
    "stop": frozenset({"STOPPED", "DEFINED_ON_CORE"}),
    "start": LAB_RUNNING,
    "wipe": frozenset({"DEFINED_ON_CORE"}),
}
"""CML lab states that agree with a lab stop, start or wipe cmltui sent."""
LAB_LEAVES: Final[Mapping[str, str]] = {
    "stop": "STOPPED",
    "start": "STARTED",
    "wipe": "DEFINED_ON_CORE",
}
"""The state each lab action leaves the lab in (held when CML could not be read right after)."""


def same_value(a: Any, b: Any) -> bool:
    """Equal as a read shows them: datetimes to the second (tags keep whole seconds), enums
    and their string values alike."""
    return _comparable(a) == _comparable(b)


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0)
    if isinstance(value, Enum):
        return value.value
    return value


@dataclass(frozen=True)
class PendingWrite(Generic[V]):
    """A value the monitor wrote (or an event set) at `at`; read values in `confirms` agree."""

    value: V
    at: datetime
    confirms: frozenset[V] | None = None  # None: only the value itself agrees

    def agrees_with(self, read: object) -> bool:
        if self.confirms is not None:
            return any(same_value(read, c) for c in self.confirms)
        return same_value(read, self.value)

    def outlived_by(self, read_started: datetime, settle: timedelta) -> bool:
        """A read that started after the settle window and still disagrees wins."""
        return read_started > self.at + settle

    def settled_by(self, read: object, read_started: datetime, settle: timedelta) -> bool:
        """True when this held value may go: the read agrees, or it outlived the window."""
        return self.agrees_with(read) or self.outlived_by(read_started, settle)


def merge_tags(
    listed: dict[str, str],
    pending: dict[str, PendingWrite[str]],
    read_started: datetime,
    settle: timedelta,
) -> dict[str, str]:
    """The listed tags with the writes a stale listing cannot undo laid over them.

    Writes that the listing confirms or outlives are dropped from `pending`. A tag the listing
    lacks reads as absent (None), which disagrees with any write: someone deleted it.
    """
    if not pending:
        return dict(listed)
    merged = settle_fields({**dict.fromkeys(pending), **listed}, pending, read_started, settle)
    return {key: value for key, value in merged.items() if value is not None}


def settle_status(
    listed: WorkerStatus,
    pending: PendingWrite[WorkerStatus] | None,
    read_started: datetime,
    settle: timedelta,
) -> tuple[WorkerStatus, PendingWrite[WorkerStatus] | None]:
    """The status to keep after a listing, and the pending state change still standing."""
    if pending is None or pending.settled_by(listed, read_started, settle):
        return listed, None
    return pending.value, pending


def settle_fields(
    read: Mapping[str, Any],
    held: dict[str, PendingWrite[Any]],
    read_started: datetime,
    settle: timedelta,
) -> dict[str, Any]:
    """`read`'s values with the held ones a stale read cannot undo laid over them.

    Held values the read confirms or outlives are dropped from `held` (a field the read does
    not carry stays held). The direct backend's tags and status, the Cloud Manager backend's
    payloads and the dashboard's view-model all settle through here.
    """
    merged = dict(read)
    for name, write in list(held.items()):
        if name not in read:
            merged[name] = write.value
        elif write.settled_by(read[name], read_started, settle):
            del held[name]
        else:
            merged[name] = write.value
    return merged


# --- which fields each activity event sets ----------------------------------------------------


@dataclass(frozen=True)
class EventField:
    """One DTO field an activity event sets, and where in the event its value is."""

    field: str
    """The `CMLWorkerDto` field."""
    key: str | None
    """The event data key that carries the value; None when the event implies `value`."""
    value: Any = None
    """The implied value (the in-flight status of a pause or resume)."""
    confirms: frozenset[Any] | None = None
    """Read values that agree with it besides itself (`STOP_CONFIRMS`, `START_CONFIRMS`)."""
    keep_on_null: bool = False
    """A null in the event means "no news, keep what is shown", not "blank it"."""
    values: Mapping[Any, Any] | None = None
    """When set, the field takes the value the event's one maps to (None for any other)."""
    only_mapped: bool = False
    """With `values`: only an event whose value is mapped sets the field; others leave it."""


IDLE_DETECTION_TOGGLED: Final = "worker.idle_detection.toggled"
PAUSED: Final = "worker.paused"
RESUMED: Final = "worker.resumed"
ACTIVITY_UPDATED: Final = "worker.activity.updated"
LAB_CHANGED: Final = "worker.lab.changed"
LICENCE_CHANGED: Final = "worker.license"
REGISTERING: Final = "registering"
"""`license_operation` while a licence registration is under way."""

EVENT_TIME_KEY: Final[Mapping[str, str]] = {
    IDLE_DETECTION_TOGGLED: "toggled_at",
    PAUSED: "paused_at",
    RESUMED: "resumed_at",
    ACTIVITY_UPDATED: "last_activity_check_at",
    LAB_CHANGED: "changed_at",
    LICENCE_CHANGED: "at",
}
"""The data key that says when each event happened: its held values date from then (a lab
event holds none: it is only told)."""

EVENT_FIELDS: Final[Mapping[str, tuple[EventField, ...]]] = {
    IDLE_DETECTION_TOGGLED: (EventField("is_idle_detection_enabled", "is_enabled"),),
    PAUSED: (
        EventField("status", None, WorkerStatus.STOPPING, STOP_CONFIRMS),
        EventField("last_paused_at", "paused_at"),
        EventField("paused_by", "paused_by"),
        EventField("pause_reason", "pause_reason"),
        EventField("auto_pause_count", "auto_pause_count"),
        EventField("manual_pause_count", "manual_pause_count"),
    ),
    RESUMED: (
        EventField("status", None, WorkerStatus.PENDING, START_CONFIRMS),
        EventField("last_resumed_at", "resumed_at"),
        EventField("resumed_by", "resumed_by"),
        EventField("auto_resume_count", "auto_resume_count"),
        EventField("manual_resume_count", "manual_resume_count"),
    ),
    ACTIVITY_UPDATED: (
        EventField("last_activity_at", "last_activity_at", keep_on_null=True),
        EventField("last_activity_check_at", "last_activity_check_at"),
        EventField("next_idle_check_at", "next_idle_check_at"),
        EventField("target_pause_at", "target_pause_at"),
    ),
    # "registering" from a registration's start until its end (any other step). A
    # deregistration holds "unregistered": Cloud Manager accepts it (202) and broadcasts no
    # licence when its job is done, so a snapshot sent before then must not bring it back.
    LICENCE_CHANGED: (
        EventField("license_operation", "step", values={"registration started": REGISTERING}),
        EventField(
            "license_status",
            "step",
            values={"deregistered": LicenseStatus.UNREGISTERED},
            only_mapped=True,
        ),
    ),
}
"""Every activity event type and the DTO fields it sets: the one table (no other copy)."""

HELD_FIELDS: Final = frozenset(f.field for fields in EVENT_FIELDS.values() for f in fields)
"""Every DTO field an event can set: the only fields the settle rule ever holds."""


def event_time(event_type: str, data: Mapping[str, Any]) -> datetime | None:
    """When an event (its type and data, as Python values) happened; None when unknown."""
    key = EVENT_TIME_KEY.get(event_type)
    value = data.get(key) if key else None
    return value if isinstance(value, datetime) else None


def held_from_event(event_type: str, data: Mapping[str, Any]) -> dict[str, PendingWrite[Any]]:
    """The DTO fields an event sets, each held from the event's time ({} for other events)."""
    at = event_time(event_type, data)
    if at is None:
        return {}
    held: dict[str, PendingWrite[Any]] = {}
    for spec in EVENT_FIELDS.get(event_type, ()):
        if spec.key is None:
            held[spec.field] = PendingWrite(spec.value, at, spec.confirms)
        elif spec.key in data and not (data[spec.key] is None and spec.keep_on_null):
            if spec.only_mapped and spec.values is not None and data[spec.key] not in spec.values:
                continue
            value = data[spec.key] if spec.values is None else spec.values.get(data[spec.key])
            held[spec.field] = PendingWrite(value, at, spec.confirms)
    return held
