"""The activity log: recent events and actions, newest last, in local time."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import RichLog

from cmltui.api.events import (
    ActivityEvent,
    ActivityUpdated,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
    event_time,
)
from cmltui.clock import Clock
from cmltui.tui.bus import ActivityArrived, Bus, SnapshotArrived
from cmltui.tui.fmt import local_time
from cmltui.tui.safe import shown

MAX_LINES = 500


def describe(event: ActivityEvent, name: str) -> str:
    """One line for an activity event."""
    if isinstance(event, IdleDetectionToggled):
        state = "ON" if event.is_enabled else "OFF"
        return f"{name}: idle detection {state} by {event.toggled_by}"
    if isinstance(event, WorkerPaused):
        return (
            f"{name}: pause ({event.pause_reason}) by {event.paused_by}"
            f" · pauses auto {event.auto_pause_count} manual {event.manual_pause_count}"
        )
    if isinstance(event, WorkerResumed):
        return (
            f"{name}: resume ({event.resume_reason}) by {event.resumed_by}"
            f" · resumes auto {event.auto_resume_count} manual {event.manual_resume_count}"
        )
    if isinstance(event, ActivityUpdated):
        last = local_time(event.last_activity_at) if event.last_activity_at else "none"
        return f"{name}: activity checked, last activity {last}"
    return f"{name}: {event.type}"


class ActivityLog(RichLog):
    """Activity events (and the app's own notes: actions, failed cycles)."""

    DEFAULT_CSS = "ActivityLog { height: 8; }"

    def __init__(self, bus: Bus, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=MAX_LINES, wrap=False, markup=False, highlight=False)
        self._bus = bus
        self._clock = clock
        self._names: dict[str, str] = {}
        self.can_focus = False

    def on_mount(self) -> None:
        # Names only: the log shows `name` instead of an instance id.
        self._bus.snapshots.subscribe(self, self._on_snapshot)
        self._bus.activity.subscribe(self, self._on_activity)

    def _on_snapshot(self, message: SnapshotArrived) -> None:
        self._names = {dto.id: dto.name for dto in message.snapshot.workers}

    def _on_activity(self, message: ActivityArrived) -> None:
        event = message.event
        name = self._names.get(event.worker_id, event.worker_id)
        self.note(describe(event, name), when=event_time(event))

    def note(self, line: str, *, style: str = "", when: datetime | None = None) -> None:
        stamp = local_time(when or self._clock.now(), seconds=True)
        text = Text(no_wrap=True)
        text.append(stamp + " ", "dim")
        text.append(shown(line), style)  # names and errors come from outside
        self.write(text)
