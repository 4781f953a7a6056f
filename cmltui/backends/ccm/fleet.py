"""The workers a Cloud Manager manages, as last heard from it: bounded, never back in time.

Each worker keeps its last `worker.snapshot` payload (token-free), patched by the metrics
events (both of upstream's shapes), with what cmltui reads besides (the idle verdict, the lab
list), the facts Cloud Manager blanks on a stop (kept with their age) and the values recent
activity events set (held by the one settle rule, `cmltui.domain.settle`).

Snapshots are ordered by the payload's own `updated_at`, the time of the worker's last change
in Cloud Manager: the relay stamps each event with its broadcast time, so a snapshot read before
a pause can arrive after the one that already shows it (upstream saves the status first, and
its snapshot goes out before `worker.paused`); it is older by `updated_at` and is dropped.
Ids longer than the limit are refused (never cut), and no more than `max_workers` workers are
kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final

from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import ActivityEvent, held_from_event
from cmltui.backends.ccm.events import worker_id_of
from cmltui.backends.ccm.kinds import KindCounter
from cmltui.ccm_facts import CcmLab, IdleVerdict, KeptFact, apply_lab_event, read_at
from cmltui.domain.enums import LicenseStatus, WorkerStatus
from cmltui.domain.settle import PendingWrite, settle_fields
from cmltui.domain.times import not_ahead, parse_time
from cmltui.mapper import CcmMapContext, ccm_status, map_ccm_snapshot_to_dto

log = logging.getLogger(__name__)

MAX_WORKERS: Final = 20_000  # a misbehaving server cannot grow the fleet without bound
STALE_GRACE: Final = timedelta(minutes=5)
KEPT_FIELDS: Final = ("cml_version", "cml_license_info")
DETECTION: Final = "is_idle_detection_enabled"
# The CML-metrics form of `worker.metrics.updated` (`CMLMetricsUpdatedDomainEventHandler`) and
# the telemetry form (`CMLWorkerTelemetryUpdatedDomainEventHandler`), both in upstream's
# `application/events/domain/cml_worker_events.py`: payload field <- event key.
_CML_METRICS: Final = {
    "cml_version": "cml_version",
    "cml_labs_count": "labs_count",
    "cpu_utilization": "cpu_utilization",
    "memory_utilization": "memory_utilization",
    "storage_utilization": "storage_utilization",
    "poll_interval": "poll_interval",
    "next_refresh_at": "next_refresh_at",
}
# The telemetry form's `active_labs_count` is upstream's count of every lab; its
# `last_activity_at` is the time of the collection, which upstream's own state ignores.
_TELEMETRY: Final = {
    "cml_labs_count": "active_labs_count",
    "cpu_utilization": "cpu_utilization",
    "memory_utilization": "memory_utilization",
    "poll_interval": "poll_interval",
    "next_refresh_at": "next_refresh_at",
}


class Stored(Enum):
    NEW = "new"  # a worker not seen before
    CHANGED = "changed"
    STATUS_CHANGED = "status changed"
    SAME = "same"  # the same payload again
    STALE = "stale"  # older than the one kept: dropped
    REFUSED = "refused"  # an id too long, or one worker too many


@dataclass
class Entry:
    payload: dict[str, Any]
    received_at: datetime
    region: str
    updated_at: datetime | None
    kept: dict[str, KeptFact] = field(default_factory=dict)
    labs: list[CcmLab] | None = None
    labs_read_at: datetime | None = None
    verdict: IdleVerdict | None = None

    @property
    def status(self) -> WorkerStatus:
        return ccm_status(self.payload.get("status"))


class CcmFleet:
    def __init__(self, max_workers: int = MAX_WORKERS) -> None:
        self.max_workers = max_workers
        self.entries: dict[str, Entry] = {}
        self.held: dict[str, dict[str, PendingWrite[Any]]] = {}  # DTO fields, from events
        self.applied: dict[str, int] = {}  # snapshots applied per worker (tests read it)
        self.stale = 0  # snapshots dropped as older than the one kept
        self.refused = KindCounter(log, "workers refused")

    def __contains__(self, worker_id: object) -> bool:
        return worker_id in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    # --- snapshots ----------------------------------------------------------------------------

    def store(
        self, payload: dict[str, Any], received: datetime, region: str, *, count: bool = True
    ) -> Stored:
        """Keep a snapshot payload (token-free) unless it is older than the one kept."""
        payload.pop("license_token", None)  # never kept, even if a caller forgot
        payload.pop("_reason", None)
        worker_id = worker_id_of(payload.get("id"))
        if worker_id is None:
            self.refused.note("unusable id", "not a string of 1 to 128 characters; not shown")
            return Stored.REFUSED
        old = self.entries.get(worker_id)
        if old is None and len(self.entries) >= self.max_workers:
            self.refused.note("over the cap", f"more than {self.max_workers}; the rest ignored")
            return Stored.REFUSED
        updated_at = not_ahead(parse_time(payload.get("updated_at")), received)
        if old is not None and _older(updated_at, received, old):
            self.stale += 1
            return Stored.STALE
        if old is not None and old.payload == payload:
            old.received_at = received  # the same again, read later (another client connected)
            return Stored.SAME
        entry = Entry(payload, received, region, updated_at)
        if old is not None:
            entry.kept, entry.verdict = old.kept, old.verdict
            entry.labs, entry.labs_read_at = old.labs, old.labs_read_at
        self._keep(entry, payload, read_at(payload, received))
        self.entries[worker_id] = entry
        if count:
            self.applied[worker_id] = self.applied.get(worker_id, 0) + 1
        if old is None:
            return Stored.NEW
        if old.status is not entry.status:
            if entry.status is not WorkerStatus.RUNNING:  # unknown until read again
                entry.verdict = entry.labs = entry.labs_read_at = None
            return Stored.STATUS_CHANGED
        return Stored.CHANGED

    def remove(self, worker_id: str) -> None:
        self.entries.pop(worker_id, None)
        self.held.pop(worker_id, None)

    @staticmethod
    def _keep(entry: Entry, values: Mapping[str, Any], when: datetime) -> None:
        """Remember what Cloud Manager will blank on a stop, with when it was read."""
        version = values.get("cml_version")
        if isinstance(version, str) and version:
            entry.kept["cml_version"] = KeptFact(version, when)
        licence = values.get("cml_license_info")
        if isinstance(licence, Mapping) and licence:
            entry.kept["cml_license_info"] = KeptFact(licence, when)

    # --- events -------------------------------------------------------------------------------

    def apply_metrics(self, worker_id: str, data: Mapping[str, Any], now: datetime) -> bool:
        """Either form of `worker.metrics.updated`, patched into the worker's payload."""
        entry = self.entries.get(worker_id)
        if entry is None:
            return False
        fields = _CML_METRICS if "labs_count" in data else _TELEMETRY
        for name, key in fields.items():
            if key in data:
                entry.payload[name] = data[key]
        self._keep(entry, {"cml_version": data.get("cml_version")}, now)
        return True

    def apply_labs_event(self, worker_id: str, data: Mapping[str, Any]) -> bool:
        """A `worker.labs.updated`, applied to the lab list once it has been read."""
        entry = self.entries.get(worker_id)
        if entry is None or entry.labs is None:
            return False
        labs = apply_lab_event(entry.labs, data)
        if labs is not None:
            entry.labs = labs
        return labs is not None

    def forget_licence(self, worker_id: str) -> None:
        """The licence was deregistered: the kept one must not come back."""
        entry = self.entries.get(worker_id)
        if entry is not None:
            entry.kept.pop("cml_license_info", None)

    def hold(self, activity: ActivityEvent) -> None:
        """Hold what the event sets (the settle table), for listed workers only (bounded)."""
        if activity.worker_id in self.entries:
            held = held_from_event(activity)
            if held:
                self.held.setdefault(activity.worker_id, {}).update(held)

    def held_status(self, worker_id: str) -> WorkerStatus | None:
        write = self.held.get(worker_id, {}).get("status")
        return WorkerStatus(write.value) if write is not None else None

    def held_licence(self, worker_id: str) -> LicenseStatus | None:
        """The licence an event set and no snapshot has settled yet (a deregistration's)."""
        write = self.held.get(worker_id, {}).get("license_status")
        return LicenseStatus(write.value) if write is not None else None

    # --- what cmltui reads besides ------------------------------------------------------------

    def set_verdict(self, worker_id: str, verdict: IdleVerdict | None) -> None:
        entry = self.entries.get(worker_id)
        if entry is not None and entry.status is WorkerStatus.RUNNING:
            entry.verdict = verdict

    def set_labs(self, worker_id: str, labs: list[CcmLab] | None, at: datetime) -> None:
        entry = self.entries.get(worker_id)
        if entry is not None and labs is not None and entry.status is WorkerStatus.RUNNING:
            entry.labs, entry.labs_read_at = labs, at

    def running(self, *, detection: bool = False) -> Iterator[str]:
        """Running workers (with idle detection on, as shown, when `detection`)."""
        for worker_id, entry in self.entries.items():
            if entry.status is not WorkerStatus.RUNNING:
                continue
            if detection and not self._detection_on(worker_id, entry):
                continue
            yield worker_id

    def detection_shown(self, worker_id: str) -> bool:
        """The worker's idle-detection switch as shown: an event's value while it is held."""
        entry = self.entries.get(worker_id)
        return entry is not None and self._detection_on(worker_id, entry)

    def _detection_on(self, worker_id: str, entry: Entry) -> bool:
        write = self.held.get(worker_id, {}).get(DETECTION)
        shown = write.value if write is not None else entry.payload.get(DETECTION)
        return shown is True

    def confirm_detection(self, worker_id: str, enabled: bool) -> None:
        """Cloud Manager answered that the switch already is `enabled` (a toggle it had nothing
        to do for): shown from now on, over an older snapshot or event."""
        entry = self.entries.get(worker_id)
        if entry is not None:
            entry.payload[DETECTION] = enabled
            self.held.get(worker_id, {}).pop(DETECTION, None)

    # --- the outward shape --------------------------------------------------------------------

    def dtos(
        self, context: Callable[[Entry], CcmMapContext], settle: timedelta
    ) -> Iterator[CMLWorkerDto | None]:
        """Each worker's DTO, in turn (None for a payload the DTO refuses: that worker only).

        A generator, so that a caller can yield to the event loop between workers.
        """
        for worker_id, entry in list(self.entries.items()):
            try:
                yield self._settled_dto(worker_id, entry, context(entry), settle)
            except Exception as exc:
                self.refused.note(type(exc).__name__, f"payload of {worker_id[:64]} not shown")
                yield None

    def _settled_dto(
        self, worker_id: str, entry: Entry, ctx: CcmMapContext, settle: timedelta
    ) -> CMLWorkerDto:
        """The worker's DTO, with the values recent events set that its snapshot cannot undo.

        The snapshot is read as the mapper reads it; the settle rule then drops each held value
        the snapshot confirms, or outlives (sent later than the event plus the settle time),
        and what still stands is laid over the payload by the mapper.
        """
        dto = map_ccm_snapshot_to_dto(entry.payload, ctx)
        held = self.held.get(worker_id)
        if not held:
            return dto
        read = {name: getattr(dto, name) for name in held}
        settle_fields(read, held, entry.received_at, settle)
        if not held:
            del self.held[worker_id]
            return dto
        standing = {name: write.value for name, write in held.items()}
        return map_ccm_snapshot_to_dto(entry.payload, replace(ctx, held=standing))

    def name(self, worker_id: str) -> str:
        entry = self.entries.get(worker_id)
        name = entry.payload.get("name") if entry else None
        return name[:120] if isinstance(name, str) and name else worker_id[:64]

    def ids(self) -> Iterable[str]:
        return self.entries.keys()


def _older(updated_at: datetime | None, received: datetime, old: Entry) -> bool:
    """A snapshot of the worker as it was before the kept one: by `updated_at` when both say
    it (one that does not say is not newer than one that does), else by when it was sent.

    One sent more than `STALE_GRACE` after the kept one is never a late copy: this heals a
    Cloud Manager clock that jumped back, or one wild `updated_at`.
    """
    if received - old.received_at > STALE_GRACE:
        return False
    if old.updated_at is not None:
        return updated_at is None or updated_at < old.updated_at
    return received < old.received_at
