"""`CmltuiApp`: the dashboard over a `Backend` (the README's "How it is built").

The app runs no collection: the backend (the core service) owns the schedules and calls back
with snapshots, activity events, warnings and its source status, from any thread. The app
applies snapshots and events to the view-model (`FleetView`, the fleet as shown) and puts them
on its two channels; `R` asks the backend for a cycle now. Freezing holds both channels back;
collection goes on, and unfreezing shows the latest snapshot. Nothing that goes wrong in a
cycle or an action crashes the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import termios
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import ClassVar, TypeVar

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input, Static

from cmltui import keymap
from cmltui.api.backend import Backend, SourceStatus
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import ActivityEvent, FleetSnapshot
from cmltui.audit import default_audit_path
from cmltui.cli.exits import EXIT_SIGINT, EXIT_SIGTERM, EXIT_TERMINAL_GONE
from cmltui.clock import Clock
from cmltui.config import Config, ConfigError, save_ui_theme
from cmltui.domain.intervals import step_interval
from cmltui.domain.rules import LabVerb
from cmltui.keymap import Scope
from cmltui.logging_setup import log_file_path
from cmltui.tui import hints, reach
from cmltui.tui.activity_log import ActivityLog
from cmltui.tui.bus import ActivityArrived, Bus, SnapshotArrived
from cmltui.tui.columns import columns_for, filter_problem
from cmltui.tui.driver import QuietLinuxDriver, TerminalLost
from cmltui.tui.fleet_view import FleetView
from cmltui.tui.fmt import local_time
from cmltui.tui.footer import FooterRules, KeysFooter
from cmltui.tui.header import FleetHeader
from cmltui.tui.hints import KeyHints
from cmltui.tui.history import FleetHistory
from cmltui.tui.operator import OperatorActions
from cmltui.tui.panels import (
    GaugesPanel,
    GaugesRow,
    HealthPanel,
    IdleStatusPanel,
    LabsPanel,
    Panel,
    PausePanel,
    SparklinesPanel,
)
from cmltui.tui.problem import problem_text
from cmltui.tui.safe import PlainInput, plain, shown
from cmltui.tui.table import WorkerTable

log = logging.getLogger(__name__)

T = TypeVar("T")

MIN_WIDTH = 60
MIN_HEIGHT = 16
WIDE_WIDTH = 140  # below this the detail pane gives way to the table (`d` brings it back)
TALL_HEIGHT = 32  # from this height the activity log has its own rows
TTY_CHECK_SECONDS = 1.0
TERMINAL_GONE_GRACE_SECONDS = 5.0
RELEASE_RETIRED_SECONDS = 0.25  # the previous snapshot is freed after the new one's frame


def _leave_now() -> None:
    """Last resort after the terminal vanished and a clean shutdown did not finish in time."""
    log.warning("shutdown stuck after the terminal went away; leaving without it")
    logging.shutdown()
    os._exit(EXIT_TERMINAL_GONE)


WARNING_STYLE = "yellow"


class CmltuiApp(App[None]):
    """The live dashboard."""

    class BackendWarning(Message):
        """A warning the backend raised (a stop whose history tags could not be written …)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    TITLE = "cmltui"
    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS: ClassVar = [
        (0, "-too-narrow"),
        (MIN_WIDTH, "-compact"),
        (WIDE_WIDTH, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar = [
        (0, "-too-short"),
        (MIN_HEIGHT, "-short"),
        (TALL_HEIGHT, "-tall"),
    ]
    BINDINGS: ClassVar = [
        Binding(
            spec.keys,
            spec.action,
            spec.label or spec.description,
            show=bool(spec.label),
            priority=spec.priority,
            id=keymap.BINDING_PREFIX + spec.id,
        )
        for spec in keymap.ACTIONS
    ]

    def __init__(
        self,
        backend: Backend,
        config: Config,
        clock: Clock,
        *,
        start_backend: bool = True,
        settings_path: Path | None = None,
        audit_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.audit_path = audit_path or default_audit_path(demo=backend.context.demo)
        self.backend = backend
        self.config = config
        self.clock = clock
        self.start_backend = start_backend
        self.bus = Bus(self)
        self.view = FleetView(
            timedelta(seconds=config.idle.settle_seconds), idle_enabled=config.idle.enabled
        )
        self.hints = KeyHints(config.keys.model_dump())
        self.history = FleetHistory(config.ui.history_points)
        self.latest: FleetSnapshot | None = None  # the last one received (frozen or not)
        self.frozen = False
        self.cycles_started = 0
        self.cycles_failed = 0
        self._held: list[SnapshotArrived | ActivityArrived] = []
        self._loop_thread: int | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._forced_exit: threading.Timer | None = None
        self._recent_events: deque[ActivityEvent] = deque(maxlen=64)
        self._last_errors: tuple[str, ...] = ()
        self._retired: list[FleetSnapshot] = []
        self.operator = OperatorActions(self)
        self.settings_path = settings_path  # where a theme chosen in the palette is saved
        self.log_path = log_file_path(demo=backend.context.demo)
        self.source_status: SourceStatus | None = None

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        bus, view, clock, config = self.bus, self.view, self.clock, self.config
        with Vertical(id="body"):
            yield FleetHeader(bus, self.backend.context, self.backend.interval, id="header")
            frozen = "FROZEN · the view is paused, collection goes on · "
            yield Static(Text(frozen + self.hints(hints.RESUME_FROM_FREEZE)), id="frozen")
            with Container(id="main"):
                yield Static(id="problem")
                yield WorkerTable(
                    bus,
                    view,
                    config.ui.thresholds,
                    columns=columns_for(len(self.backend.context.accounts)),
                    id="table",
                )
                with Container(id="detail"):
                    with Vertical(id="detail-left"):
                        with GaugesRow(id="gauges-row"):
                            yield GaugesPanel(bus, view, clock, config, self.history, id="gauges")
                            yield SparklinesPanel(
                                bus, view, clock, config, self.history, id="sparklines"
                            )
                        yield Static("CML", classes="section-title")
                        yield HealthPanel(bus, view, clock, id="health")
                    with Vertical(id="detail-right"):
                        yield Static("Idle", classes="section-title")
                        yield IdleStatusPanel(
                            bus,
                            view,
                            clock,
                            config,
                            read_only=self.backend.context.read_only,
                            id="idle",
                        )
                        yield Static("Pause / resume", classes="section-title")
                        yield PausePanel(bus, view, clock, id="pause")
                        yield Static("Labs", classes="section-title")
                        yield LabsPanel(bus, view, clock, id="labs")
            yield ActivityLog(bus, view, clock, id="log")
        yield PlainInput(
            placeholder="filter the columns · or one field: owner:bob labowner:… lab:… tag:…",
            id="filter",
        )
        yield Static(id="too-small")

    async def on_mount(self) -> None:
        self._event_loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.set_keymap(
            {
                keymap.BINDING_PREFIX + spec.id: getattr(self.config.keys, spec.id)
                for spec in keymap.ACTIONS
            }
        )
        self.query_one("#log", ActivityLog).border_title = "Activity"
        self.query_one("#detail").border_title = "No worker selected"
        self.screen.set_focus(self.table)  # now (`focus()` waits a turn): the footer shows its keys
        # At 80 columns every key (and ? for help) fits in the compact footer.
        await self.screen.mount(KeysFooter(wide_from=WIDE_WIDTH, width=self.size.width))
        self._restore_theme()
        self.backend.subscribe_snapshots(self._from_backend(self._snapshot_collected))
        self.backend.subscribe_activity(self._from_backend(self.publish_activity))
        self.backend.subscribe_status(self._from_backend(self._status_changed))
        # Posting a message is safe from any thread: warnings need no hop of their own.
        self.backend.subscribe_warnings(lambda text: self.post_message(self.BackendWarning(text)))
        if not self.is_headless:
            self._watch_terminal()
        if self.start_backend:
            # After the first frame: the frame (header, empty table, "collecting…") is on
            # screen before the backend loads or starts anything.
            self.call_after_refresh(self.backend.start)

    def _from_backend(self, receive: Callable[[T], None]) -> Callable[[T], None]:
        """The backend may call from any thread: hop onto the app's loop when it does."""

        def deliver(item: T) -> None:
            if threading.get_ident() == self._loop_thread:
                receive(item)
            elif self._event_loop is not None:
                self._event_loop.call_soon_threadsafe(receive, item)

        return deliver

    # --- the terminal going away --------------------------------------------------------------

    def _watch_terminal(self) -> None:
        """Exit cleanly on SIGHUP/SIGTERM or when the TTY is lost (Textual does neither)."""
        assert self._event_loop is not None
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                self._event_loop.add_signal_handler(sig, self._terminal_gone, sig.name)
        if not isinstance(self._driver, QuietLinuxDriver):  # it reports a lost terminal itself
            self.set_interval(TTY_CHECK_SECONDS, self._check_tty)

    def get_driver_class(self) -> type[Driver]:
        """On Linux, the driver whose input thread sleeps while no key is pressed;
        Textual's choice elsewhere and when `TEXTUAL_DRIVER` names one."""
        chosen = super().get_driver_class()
        return QuietLinuxDriver if chosen is LinuxDriver else chosen

    def on_terminal_lost(self, _message: TerminalLost) -> None:
        self._terminal_gone("lost TTY")

    def _terminal_gone(self, why: str) -> None:
        log.info("terminal gone (%s): exiting", why)
        if self._forced_exit is None:
            # Textual's shutdown can block for ever once its output thread has died on the
            # hung-up terminal (it waits to hand that thread a last item). Nothing is left to
            # restore on a terminal that is gone, so after a grace period leave anyway.
            self._forced_exit = threading.Timer(TERMINAL_GONE_GRACE_SECONDS, _leave_now)
            self._forced_exit.daemon = True
            self._forced_exit.start()
        self.exit(return_code=EXIT_SIGTERM if why == "SIGTERM" else EXIT_TERMINAL_GONE)

    def _check_tty(self) -> None:
        """A hung-up terminal fails tcgetattr with EIO (a live one, controlling or not, never).

        Textual's input thread busy-loops on a hung-up terminal's EOF, so this check runs
        often enough to bound that to about a second.
        """
        try:
            termios.tcgetattr(sys.__stdin__.fileno() if sys.__stdin__ else 0)
        except (OSError, ValueError, termios.error):
            self._terminal_gone("lost TTY")

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size
        self.query_one("#too-small", Static).update(
            f"cmltui needs at least {MIN_WIDTH}×{MIN_HEIGHT}"
            f" (this terminal is {width}×{height}).\nPlease enlarge the terminal."
        )

    @property
    def main_screen(self) -> Screen:
        """The dashboard's own screen (the detail, help and dialogs stack above it)."""
        return self.screen_stack[0]

    @property
    def table(self) -> WorkerTable:
        return self.query_one("#table", WorkerTable)

    @property
    def activity_log(self) -> ActivityLog:
        return self.query_one("#log", ActivityLog)

    def on_worker_table_cursor_moved(self, message: WorkerTable.CursorMoved) -> None:
        for panel in self.query(Panel):
            panel.select(message.worker_id)
        detail = self.query_one("#detail")
        dto = self.view.dto(message.worker_id)
        # The name is an EC2 tag: plain text, never markup (a `[/]` or `[@click]` is data).
        detail.border_title = (
            plain(f"{dto.name} · {dto.id}", limit=200) if dto else "No worker selected"
        )

    # --- the source ---------------------------------------------------------------------------

    def _status_changed(self, status: SourceStatus) -> None:
        """The source's state: shown in the header; trouble also in the log and a toast.
        A failure before any worker was listed also fills the error panel."""
        previous, self.source_status = self.source_status, status
        self.query_one(FleetHeader).set_source_status(status)
        flowing = status.state in ("ok", "starting")
        stale_since = None if flowing or self.latest is None else self.latest.collected_at
        self.table.set_stale(stale_since)  # the rows stay, marked, until data flows again
        if status.state in ("retrying", "error") and not (self.latest and self.latest.workers):
            errors = (list(self.latest.errors) if self.latest and self.latest.errors else []) or [
                status.detail or status.state
            ]
            self._problem(errors, self.latest.collected_at if self.latest else None)
        if status.state in ("retrying", "error"):
            self.query_one(FleetHeader).failed_try(self.clock.now())
            if previous is None or (previous.state, previous.detail) != (
                status.state,
                status.detail,
            ):
                self._report_failure(status.detail or status.state)

    def _snapshot_collected(self, snapshot: FleetSnapshot) -> None:
        self.history.record(snapshot.workers, snapshot.collected_at)
        if self.latest is not None:
            # Freeing a 1000-worker snapshot's DTOs takes milliseconds: keep the old one alive
            # until the new one is on screen (a frame comes within 1/60 s), then let it go.
            # A plain loop timer: Textual's `call_after_refresh` costs a message and a fresh
            # inspection of the callback's signature on every cycle.
            self._retired.append(self.latest)
            if self._event_loop is not None:
                self._event_loop.call_later(RELEASE_RETIRED_SECONDS, self._retired.clear)
        self.latest = snapshot
        if snapshot.errors != self._last_errors:
            # A collection that listed nothing is reported once, by the source's status (it
            # fails with these same errors); here only regions that failed beside others.
            if not snapshot.listed_nothing(self.backend.context.listing_count):
                for error in snapshot.errors:
                    self._report_failure(error)
            self._last_errors = snapshot.errors
        self._show_problem(snapshot)
        self._send(SnapshotArrived(snapshot))

    def _report_failure(self, detail: str) -> None:
        """One failure, once, in one wording: a line in the activity log and a toast."""
        self.note(f"collection failed: {detail}", style="#ff6b6b")
        self.notify(detail, title="Collection failed", severity="error", timeout=8)

    def _show_problem(self, snapshot: FleetSnapshot) -> None:
        """No workers and region errors: the error panel replaces the table until data comes."""
        self._problem(list(snapshot.errors) if not snapshot.workers else [], snapshot.collected_at)

    def _problem(self, errors: list[str], tried_at: datetime | None) -> None:
        failing = bool(errors)
        if failing:
            status = self.source_status
            retry = status.retry_at if status is not None else None
            note = f"Still trying (every {self.backend.interval:g} s, backing off)"
            if tried_at is not None:
                note += f"; last try {local_time(tried_at, seconds=True)}"
            if retry is not None:
                note += f"; next {local_time(retry, seconds=True)}"
            note += ". " + self.hints.join(hints.QUITS, hints.HELP, hints.ACTIVITY_LOG)
            self.query_one("#problem", Static).update(
                problem_text(errors, self.backend.context, note)
            )
        self.main_screen.set_class(failing, "-problem")

    # --- the activity channel ---------------------------------------------------------------

    def publish_activity(self, event: ActivityEvent) -> None:
        """Put one activity event on the activity channel (once, even if reported twice)."""
        if event in self._recent_events:
            return
        self._recent_events.append(event)
        self._send(ActivityArrived(event))

    def _send(self, message: SnapshotArrived | ActivityArrived) -> None:
        """Onto the view-model, then to the widgets (unless the view is frozen)."""
        if self.frozen:
            self._held.append(message)
            return
        if isinstance(message, SnapshotArrived):
            self.view.apply_snapshot(message.snapshot)
            self.bus.snapshots.publish(message)
        else:
            self.view.apply_event(message.event)
            self.bus.activity.publish(message)

    def on_cmltui_app_backend_warning(self, message: BackendWarning) -> None:
        """Each warning once: in the activity log and as a toast."""
        self.note(f"warning: {message.text}", style=WARNING_STYLE)
        self.notify(message.text, title="Warning", severity="warning", timeout=10)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast is plain text: messages carry names and errors from outside."""
        super().notify(
            shown(message),
            title=shown(title, limit=100),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def note(self, line: str, *, style: str = "") -> None:
        try:
            self.activity_log.note(line, style=style)
        except Exception:  # the log may not be mounted yet (or any more)
            log.debug("activity log unavailable: %s", line)

    # --- actions ----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        """The dashboard's screen, with the size's breakpoint classes from the start: Textual
        sets them on its first resize, after the first frame, which then shows the layout of
        another size and is laid out and sent again."""
        width, height = self.size
        classes = (
            _breakpoint(width, self.HORIZONTAL_BREAKPOINTS),
            _breakpoint(height, self.VERTICAL_BREAKPOINTS),
        )
        return DashboardScreen(id="_default", classes=" ".join(classes))

    def action_interrupt(self) -> None:
        """ctrl+c: leave with 130, as the command line does on ctrl+c."""
        self.exit(return_code=EXIT_SIGINT)

    def action_refresh(self) -> None:
        self.backend.refresh_now()
        self.notify("Refreshing now.", timeout=2)

    def action_freeze(self) -> None:
        self.frozen = not self.frozen
        self.main_screen.set_class(self.frozen, "-frozen")
        if not self.frozen:
            held, self._held = self._held, []
            last_snapshot = max(
                (i for i, m in enumerate(held) if isinstance(m, SnapshotArrived)), default=-1
            )
            for index, message in enumerate(held):
                if isinstance(message, SnapshotArrived) and index != last_snapshot:
                    continue
                self._send(message)

    def action_sort(self) -> None:
        self.table.cycle_sort()

    def action_sort_reverse(self) -> None:
        self.table.reverse_sort()

    def on_worker_table_sort_changed(self, message: WorkerTable.SortChanged) -> None:
        arrow = "▼" if message.descending else "▲"
        hidden = " (a column this width hides)" if message.hidden else ""
        self.notify(f"Sorted by {message.title} {arrow}{hidden}", timeout=2)

    def action_top(self) -> None:
        self.table.action_cursor_to(0)

    def action_bottom(self) -> None:
        self.table.action_cursor_to(-1)

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.refresh_bindings()  # `P` is named for what it will pause

    def action_filter(self) -> None:
        self.main_screen.add_class("-filtering")
        filter_input = self.query_one("#filter", Input)
        filter_input.value = self.table.filter_text
        filter_input.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.table.set_filter(event.value.strip())
            # In the filter line itself: a prefix that names no field matches nothing.
            problem = filter_problem(event.value.strip())
            event.input.border_title = plain(problem, limit=200) if problem else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self._close_filter()

    def action_clear(self) -> None:
        """Esc: leave the full-height log, else clear the filter, else the marks."""
        filter_input = self.query_one("#filter", Input)
        if self.main_screen.has_class("-log-full"):
            self.action_activity()
        elif filter_input.has_focus or self.table.filter_text:
            filter_input.value = ""
            self.table.set_filter("")
            self._close_filter()
        elif self.table.marked:
            self.clear_marks()

    def _close_filter(self) -> None:
        self.main_screen.remove_class("-filtering")
        self.table.focus()

    def action_details_pane(self) -> None:
        self.main_screen.toggle_class("-detail-toggled")

    def action_activity(self) -> None:
        """The activity log full height and focused (to scroll it); again goes back."""
        full = not self.main_screen.has_class("-log-full")
        self.main_screen.set_class(full, "-log-full")
        if full:
            self.activity_log.focus()
        else:
            self.table.focus()

    def _step_interval(self, direction: int) -> None:
        """`+`/`-` move along the ladder of round intervals; the core keeps the value."""
        applied = self.backend.set_interval(step_interval(self.backend.interval, direction))
        self.query_one(FleetHeader).set_interval(applied)
        self.notify(f"Refresh every {applied:g} s", timeout=2)

    def action_faster(self) -> None:
        self._step_interval(-1)

    def action_slower(self) -> None:
        self._step_interval(+1)

    # --- reach: the worker itself -------------------------------------------------------------

    def selected_dto(self) -> CMLWorkerDto | None:
        return self.view.dto(self._worker_in_view())

    def has_marks(self) -> bool:
        # No table yet while the footer is first composed: nothing is marked then.
        return any(table.marked for table in self.query(WorkerTable))

    def clear_marks(self) -> None:
        self.table.clear_marks()
        self.refresh_bindings()  # `P` is named "Pause idle" again

    def action_open_detail(self) -> None:
        dto = self.selected_dto()
        if dto is None:
            self.notify("No worker selected.", severity="warning", timeout=3)
            return
        from cmltui.tui.detail import WorkerDetailScreen  # on first use: not before the frame

        self.push_screen(WorkerDetailScreen(dto.id))

    def action_open_url(self) -> None:
        reach.open_cml(self, self.selected_dto())

    def action_clipboard(self) -> None:
        reach.copy_menu(self, self.selected_dto())

    def action_pause_idle(self) -> None:
        self.operator.request_bulk(self.table.order, self.table.marked)

    # --- the theme ----------------------------------------------------------------------------

    def _restore_theme(self) -> None:
        wanted = self.config.ui.theme
        if wanted and wanted in self.available_themes:
            self.theme = wanted
        elif wanted:
            self.notify(
                Text(f"Unknown theme {wanted!r} in [ui] theme; using {self.theme}."),
                severity="warning",
                timeout=6,
            )
        self.theme_changed_signal.subscribe(self, self._save_theme)

    def _save_theme(self, theme: object) -> None:
        name = getattr(theme, "name", str(theme))
        if self.settings_path is None or name == self.config.ui.theme:
            return
        try:
            save_ui_theme(self.settings_path, name)
        except (OSError, ConfigError) as exc:
            log.warning("theme not saved: %s", exc)
            self.notify(Text(f"Theme not saved: {exc}"), severity="warning", timeout=6)
            return
        self.config.ui.theme = name

    def action_help(self) -> None:
        from cmltui.tui.help import HelpScreen  # on first use: not before the first frame

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(
                HelpScreen(self.config.keys, self.config.ui.thresholds, self.file_locations())
            )

    def file_locations(self) -> list[tuple[str, str]]:
        """Where this run writes (the demo writes under its own `demo` folder, never the
        operator's real audit log)."""
        demo = " (demo's own)" if self.backend.context.demo else ""
        files = [
            (f"audit log{demo}", str(self.audit_path)),
            (f"log file{demo}", str(self.log_path)),
        ]
        if self.settings_path is not None:
            files.append(("config", str(self.settings_path)))
        return files

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own entries (theme, quit, keys…), then every action of the one table
        that works on the screen the palette was opened on."""
        yield from super().get_system_commands(screen)
        scope = _scope_of(screen)
        for spec in keymap.palette_entries():
            if keymap.works_on(spec.action, scope):
                run = partial(self.call_next, self.run_action, spec.action)
                key = self.hints.key(spec.id)  # beside the title, as configured
                yield SystemCommand(f"{spec.palette}  ({key})", spec.description, run)

    def action_cost(self) -> None:
        from cmltui.tui.cost_screen import CostScreen  # on first use: not before the frame

        if not isinstance(self.screen, CostScreen):
            self.push_screen(CostScreen(self.bus, self.view.snapshot, self.clock))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An action works on the screens its `keymap` entry names: under an open
        confirmation only its own keys (and quit), on a worker's detail screen the worker's
        own actions. Elsewhere its key does nothing and the footer leaves it out."""
        return keymap.works_on(action, _scope_of(self.screen))

    def action_toggle_idle(self) -> None:
        self.operator.toggle_idle(self._worker_in_view())

    def action_pause(self) -> None:
        self.operator.request("pause", self._worker_in_view())

    def action_resume(self) -> None:
        self.operator.request("resume", self._worker_in_view())

    def action_stop_lab(self) -> None:
        self._lab_action("stop")

    def action_start_lab(self) -> None:
        self._lab_action("start")

    def action_wipe_lab(self) -> None:
        self._lab_action("wipe")

    def _lab_action(self, verb: LabVerb) -> None:
        """On a worker's detail screen: the lab its table's cursor is on."""
        from cmltui.tui.detail import WorkerDetailScreen  # loaded when that screen opened

        screen = self.screen
        if isinstance(screen, WorkerDetailScreen):
            self.operator.request_lab(verb, screen.worker_id, screen.selected_lab_id)

    def _worker_in_view(self) -> str | None:
        """The worker an action is for: the detail screen's own, else the table's cursor."""
        screen = self.screen
        if _scope_of(screen) is Scope.DETAIL:
            return getattr(screen, "worker_id", None)
        return self.table.cursor_id


class DashboardScreen(FooterRules, Screen[None]):
    """The dashboard's own screen: Textual's default one, with the footer's rules."""


def _breakpoint(dimension: int, breakpoints: list[tuple[int, str]]) -> str:
    """The class of the largest breakpoint `dimension` reaches (each table starts at 0)."""
    return max((at, name) for at, name in breakpoints if dimension >= at)[1]


def _scope_of(screen: Screen) -> Scope:
    """Which actions work on a screen: the scope it declares (the dashboard's own: MAIN)."""
    scope = getattr(screen, "SCOPE", Scope.MAIN)
    return scope if isinstance(scope, Scope) else Scope.MAIN
