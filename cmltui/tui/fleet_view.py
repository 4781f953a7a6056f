"""The dashboard's view-model: the fleet as the screen shows it, kept in one place.

It holds the latest snapshot, indexed by instance id, and the values activity events set that
stand until a snapshot settles them. The settle rule is `cmltui.domain.settle`'s, the same as
the core's: a held value goes once a snapshot agrees with it, or once a snapshot whose
collection started later than the event plus the settle time still disagrees (someone else
changed it back). Every widget, dialog and the operator's checks read the fleet here, so a
toggle or a pause shows the same on every part of the screen at once.

Plain Python, no Textual: the view-model is the model, the widgets are the view.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import ActivityEvent, FleetSnapshot, held_from_event
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.idle import IdleState, state_of
from cmltui.domain.settle import PendingWrite, same_value, settle_fields

STATUS: Final = "status"
DETECTION: Final = "is_idle_detection_enabled"
IN_FLIGHT_WORDS: Final[Mapping[WorkerStatus, str]] = {
    WorkerStatus.STOPPING: "stopping…",
    WorkerStatus.PENDING: "starting…",
}
"""The in-flight marker a row shows while a pause or resume waits for a snapshot to confirm it."""

_NOTHING_HELD: Final[Mapping[str, PendingWrite[Any]]] = {}


class FleetView:
    """The latest snapshot by id, with the event values that still stand over it."""

    def __init__(self, settle: timedelta, *, idle_enabled: bool = True) -> None:
        self._settle = settle
        self._idle_enabled = idle_enabled  # the global switch: a toggle cannot turn it on
        self.snapshot: FleetSnapshot | None = None
        self.by_id: Mapping[str, CMLWorkerDto] = {}
        """Every listed worker by instance id (one dict per snapshot; read it, never change it)."""
        self._held: dict[str, dict[str, PendingWrite[Any]]] = {}

    # --- the two channels -----------------------------------------------------------------------

    def apply_snapshot(self, snapshot: FleetSnapshot) -> None:
        """Show a new snapshot; held values it confirms or outlives go, the others stay."""
        self.snapshot = snapshot
        self.by_id = by_id = {dto.id: dto for dto in snapshot.workers}
        for worker_id, held in list(self._held.items()):  # nearly always none
            dto = by_id.get(worker_id)
            if dto is not None:
                read = {name: getattr(dto, name) for name in held}
                settle_fields(read, held, snapshot.collected_at, self._settle)
            if dto is None or not held:
                del self._held[worker_id]

    def apply_event(self, event: ActivityEvent) -> bool:
        """Hold the fields the event sets (and no other); True when it set any."""
        held = held_from_event(event)
        if held:
            self._held.setdefault(event.worker_id, {}).update(held)
        return bool(held)

    # --- what the screen shows ------------------------------------------------------------------

    def dto(self, worker_id: str | None) -> CMLWorkerDto | None:
        return self.by_id.get(worker_id) if worker_id is not None else None

    def held(self, worker_id: str) -> Mapping[str, PendingWrite[Any]]:
        """The values events set on this worker that no snapshot has settled yet."""
        return self._held.get(worker_id, _NOTHING_HELD)

    def is_held(self, worker_id: str, field: str) -> bool:
        return field in self.held(worker_id)

    def value(self, worker_id: str, field: str) -> Any:
        """A DTO field as shown: the held value while it stands, else the snapshot's."""
        write = self.held(worker_id).get(field)
        if write is not None:
            return write.value
        dto = self.by_id.get(worker_id)
        return getattr(dto, field) if dto is not None else None

    def status(self, worker_id: str) -> WorkerStatus | None:
        """The state as shown: `stopping`/`pending` from a pause or resume until confirmed."""
        value = self.value(worker_id, STATUS)
        return WorkerStatus(value) if value is not None else None

    def in_flight(self, worker_id: str) -> bool:
        """A pause or resume was sent and no snapshot has confirmed it yet."""
        return self.is_held(worker_id, STATUS)

    def status_word(self, worker_id: str) -> str:
        """What the status cell says: the in-flight marker, else the listed state."""
        status = self.status(worker_id)
        if status is None:
            return ""
        if self.in_flight(worker_id):
            return IN_FLIGHT_WORDS.get(status, status.value)
        return status.value

    def detection_enabled(self, worker_id: str) -> bool:
        """The per-worker idle-detection switch as shown (what a toggle flips)."""
        return bool(self.value(worker_id, DETECTION))

    def idle_state(self, worker_id: str) -> IdleState | None:
        """The worker's idle state as shown (None: not running).

        The snapshot's, unless a toggle it has not listed yet switched detection: then the
        state that toggle implies, by the domain's one precedence. Switched on, a worker is
        unknown (or in snooze) until the core has read it again, never a guess.
        """
        dto = self.by_id.get(worker_id)
        if dto is None:
            return None
        toggle = self.held(worker_id).get(DETECTION)
        if toggle is None or same_value(toggle.value, dto.is_idle_detection_enabled):
            return dto.idle_state
        return state_of(
            running=dto.status is WorkerStatus.RUNNING,
            detection_on=bool(toggle.value) and self._idle_enabled,
            in_snooze=dto.in_snooze_period,
            is_idle=None,
        )
