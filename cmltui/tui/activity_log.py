"""The activity log: recent events and actions, newest last, in local time.

Routine activity checks arrive one event per worker; they become one summary line per check
round, so pauses, actions, errors and warnings are not pushed out. Those stand out by a leading
mark as well as colour. The log can take the focus (Tab, or `a` for full height) and scrolls;
long lines wrap instead of being cut.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.timer import Timer
from textual.widgets import RichLog

from cmltui.api.events import (
    ActivityEvent,
    ActivityUpdated,
    IdleDetectionToggled,
    LicenceChanged,
    WorkerPaused,
    WorkerResumed,
    event_time,
)
from cmltui.api.wording import describe_action
from cmltui.clock import Clock
from cmltui.tui.bus import ActivityArrived, Bus
from cmltui.tui.fleet_view import FleetView
from cmltui.tui.fmt import local_time
from cmltui.tui.safe import shown

MAX_LINES = 500
ROUND_QUIET_SECONDS = 1.0
"""A check round ends when no check event has come for this long (or another line comes)."""
MARKS = {"error": "× ", "warning": "! ", "action": "● ", "routine": "· "}
STYLES = {"error": "bold #ff6b6b", "warning": "yellow", "action": "bold", "routine": "dim"}


def kind_of(event: ActivityEvent) -> str:
    if isinstance(event, ActivityUpdated):
        return "routine"
    return "action"


def event_style(event: ActivityEvent) -> str:
    if isinstance(event, WorkerPaused):
        return "bold yellow"
    if isinstance(event, WorkerResumed):
        return "bold green"
    if isinstance(event, IdleDetectionToggled):
        return "bold cyan"
    if isinstance(event, LicenceChanged) and event.step == "registration failed":
        return STYLES["warning"]
    return STYLES[kind_of(event)]


def round_summary(count: int, latest: datetime | None, next_check: datetime | None) -> str:
    workers = f"{count} worker{'s' if count != 1 else ''}"
    parts = [f"activity checked on {workers}"]
    if latest is not None:
        parts.append(f"latest activity {local_time(latest)}")
    if next_check is not None:
        parts.append(f"next check {local_time(next_check)}")
    return " · ".join(parts)


def describe(event: ActivityEvent, name: str) -> str:
    """One line for an activity event: an action's as the command line says it too."""
    line = describe_action(event, name)
    if line is not None:
        return line
    if isinstance(event, ActivityUpdated):
        last = local_time(event.last_activity_at) if event.last_activity_at else "none"
        return f"{name}: activity checked, last activity {last}"
    return f"{name}: {event.type}"


class ActivityLog(RichLog):
    """Activity events (and the app's own notes: actions, failed cycles)."""

    DEFAULT_CSS = "ActivityLog { height: 8; } ActivityLog:focus { border-top: solid $accent; }"

    def __init__(self, bus: Bus, view: FleetView, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=MAX_LINES, wrap=True, markup=False, highlight=False)
        self._bus = bus
        self._view = view
        self._clock = clock
        self._round: list[ActivityUpdated] = []
        self._round_timer: Timer | None = None
        self.can_focus = True

    def on_mount(self) -> None:
        self._bus.activity.subscribe(self, self._on_activity, immediate=True)

    def _on_activity(self, message: ActivityArrived) -> None:
        event = message.event
        if isinstance(event, ActivityUpdated):
            self._round.append(event)
            if self._round_timer is not None:
                self._round_timer.stop()
            self._round_timer = self.set_timer(ROUND_QUIET_SECONDS, self.flush_round)
            return
        dto = self._view.dto(event.worker_id)  # the log names the worker, not its id
        name = dto.name if dto is not None else event.worker_id
        self.note(describe(event, name), style=event_style(event), when=event_time(event))

    def flush_round(self) -> None:
        """Write the pending check round as one line."""
        if self._round_timer is not None:
            self._round_timer.stop()
            self._round_timer = None
        events, self._round = self._round, []
        if not events:
            return
        latest = max((e.last_activity_at for e in events if e.last_activity_at), default=None)
        next_check = min(
            (e.next_idle_check_at for e in events if e.next_idle_check_at), default=None
        )
        line = round_summary(len({e.worker_id for e in events}), latest, next_check)
        self._write(line, "dim", "routine", events[0].last_activity_check_at)

    def note(self, line: str, *, style: str = "", when: datetime | None = None) -> None:
        """One line; its kind (error, warning, action) comes from its style."""
        self.flush_round()
        kind = "error" if "#ff6b6b" in style else "warning" if style == "yellow" else "action"
        self._write(line, style, kind, when)

    def _write(self, line: str, style: str, kind: str, when: datetime | None) -> None:
        stamp = local_time(when or self._clock.now(), seconds=True)
        text = Text()
        text.append(stamp + " ", "dim")
        text.append(MARKS[kind], style or STYLES[kind])
        text.append(shown(line), style)  # names and errors come from outside
        self.write(text)
