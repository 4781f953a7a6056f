"""The detail pane's panels for the selected worker, each on its own channel(s).

- `GaugesPanel` and `SparklinesPanel` (side by side in a `GaugesRow`): CPU, memory and disk
  gauges and their sparklines; snapshots only.
- `IdleStatusPanel`: idle detection; full state from snapshots, its own fields from events.
- `PausePanel`: pause/resume state and history; likewise.
- `HealthPanel` and `LabsPanel`: CML health, license, errors, labs; snapshots only.

Every panel reads the fleet from the view-model (`FleetView`): the snapshot's DTOs, and the
values an activity event set that no snapshot has settled yet. Switching the selection needs no
new data, and a panel repaints only the cells whose text changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.console import OverflowMethod
from rich.text import Text
from textual.containers import Horizontal
from textual.events import Resize
from textual.geometry import Region
from textual.widget import Widget

from cmltui.api.dto import CMLWorkerDto
from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.idle import IdleState, idle_words
from cmltui.domain.tags import idle_detection_tag
from cmltui.tui.bus import ActivityArrived, Bus, SnapshotArrived
from cmltui.tui.fleet_view import DETECTION, FleetView
from cmltui.tui.fmt import (
    NONE,
    UNPRICED,
    duration,
    gauge_bar,
    level,
    licence_style,
    licence_word,
    local_time,
    money,
    percent,
    shown_time,
    sparkline,
)
from cmltui.tui.history import FleetHistory
from cmltui.tui.repaint import ShownText, changed_text_regions
from cmltui.tui.safe import fit_cells, made_visible, shown

LABEL = 12


def _line(text: Text, label: str, value: str | Text, style: str = "") -> None:
    """One labelled line; the value may hold outside text, so it is made visible here."""
    text.append(f"{label:<{LABEL}}", "dim")
    if isinstance(value, Text):
        text.append_text(made_visible(value))
    else:
        text.append(shown(value), style)
    text.append("\n")


class Panel(Widget):
    """A text panel over the snapshot channel that repaints only the cells whose text changed."""

    DEFAULT_CSS = "Panel { height: auto; }"

    def __init__(self, bus: Bus, view: FleetView, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._bus = bus
        self._view = view
        self._clock = clock
        self.worker_id: str | None = None
        self._shown: ShownText | None = None
        self._built: tuple[int, Text] | None = None  # (width, text) of the last `_update`
        self.regions_refreshed: list[Region] | None = None  # last repaint; None = whole panel

    def on_mount(self) -> None:
        self._bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)

    def _on_snapshot(self, _message: SnapshotArrived) -> None:
        self._update()

    def select(self, worker_id: str | None) -> None:
        if worker_id != self.worker_id:
            self.worker_id = worker_id
            self._update()

    @property
    def dto(self) -> CMLWorkerDto | None:
        return self._view.dto(self.worker_id)

    def on_resize(self, event: Resize) -> None:
        self._update(whole=True)

    def _update(self, *, whole: bool = False) -> None:
        if not self.is_mounted:
            return
        width = self.size.width or 40
        text = self.build(width)
        self._built = (width, text)
        shown = ShownText(text)
        regions = None if whole else changed_text_regions(self._shown, shown, width)
        grew = self._shown is None or shown.height != self._shown.height
        self._shown = shown
        if regions is None:
            self.regions_refreshed = None
            self.refresh(layout=grew)
        elif regions:
            self.regions_refreshed = regions
            self.refresh(*regions)
        else:
            self.regions_refreshed = []

    def render(self) -> Text:
        """What `_update` built and compared (built once, and the same text that was diffed)."""
        width = self.size.width or 40
        if self._built is None or self._built[0] != width:
            self._built = (width, self.build(width))
        return self._built[1]

    def plain(self) -> str:
        """What the panel shows, without styles (for tests)."""
        return self.build(self.size.width or 40).plain

    OVERFLOW: ClassVar[OverflowMethod] = "ellipsis"
    NOTHING_SELECTED: ClassVar[str] = "no worker selected"
    """What the panel says with no worker selected ("" for nothing)."""

    def build(self, width: int) -> Text:
        """The panel's text for the selected worker, `width` cells wide."""
        text = Text(no_wrap=True, overflow=self.OVERFLOW)
        dto = self.dto
        if dto is None:
            return text.append(self.NOTHING_SELECTED, "dim")
        self.fill(text, dto, width)
        return text

    def fill(self, text: Text, dto: CMLWorkerDto, width: int) -> None:
        """Write what the panel shows of `dto` into `text`."""
        raise NotImplementedError


def gauge_widths(width: int) -> tuple[int, int]:
    """(bar, sparkline) widths for a gauges line `width` cells wide."""
    bar_width = max(6, min(24, (width - 14) // 2))
    return bar_width, max(0, width - 4 - bar_width - 10)


class GaugesRow(Horizontal):
    """The gauges and, at their right, the sparklines: two widgets on the same three lines.

    Textual writes a changed span from the left edge of the widget that owns it, and a moving
    sparkline changes every refresh: in a widget of its own it costs its own cells only.
    """

    DEFAULT_CSS = "GaugesRow { height: 3; }"

    def on_resize(self, event: Resize) -> None:
        bar_width, spark_width = gauge_widths(self.size.width)
        gauges = self.query_one(GaugesPanel)
        sparklines = self.query_one(SparklinesPanel)
        gauges.bar_width = bar_width
        sparklines.styles.width = spark_width
        sparklines.display = spark_width > 0
        gauges._update(whole=True)


class _MetricsPanel(Panel):
    """A panel drawn from the selected worker's utilization: thresholds and history."""

    def __init__(
        self,
        bus: Bus,
        view: FleetView,
        clock: Clock,
        config: Config,
        history: FleetHistory,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(bus, view, clock, id=id)
        self._thresholds = config.ui.thresholds
        self._history = history


class GaugesPanel(_MetricsPanel):
    """Utilization gauges (sparklines beside them): snapshots only, never activity events."""

    DEFAULT_CSS = "GaugesPanel { width: 1fr; }"
    bar_width: int | None = None  # set by the row; else from the width

    OVERFLOW: ClassVar[OverflowMethod] = "crop"

    def fill(self, text: Text, dto: CMLWorkerDto, width: int) -> None:
        bar_width = self.bar_width or gauge_widths(width)[0]
        for i, (label, metric) in enumerate(_METRICS):
            value = getattr(dto, metric)
            lvl = level(value, self._thresholds)
            text.append(f"{label} ", "bold")
            text.append(gauge_bar(value, bar_width), lvl.style)
            text.append(f" {percent(value):>4}", lvl.style)
            text.append(f" {lvl.cue:<2}", lvl.style)
            text.append("  ")
            if i < len(_METRICS) - 1:
                text.append("\n")


class SparklinesPanel(_MetricsPanel):
    """The selected worker's utilization history, one sparkline per gauge; snapshots only."""

    DEFAULT_CSS = "SparklinesPanel { width: 0; height: 3; }"

    OVERFLOW: ClassVar[OverflowMethod] = "crop"
    NOTHING_SELECTED: ClassVar[str] = ""

    def fill(self, text: Text, dto: CMLWorkerDto, width: int) -> None:
        for i, (_, metric) in enumerate(_METRICS):
            lvl = level(getattr(dto, metric), self._thresholds)
            text.append(sparkline(self._history.series(dto.id, _HISTORY[metric]), width), lvl.style)
            if i < len(_METRICS) - 1:
                text.append("\n")


_METRICS = (("CPU", "cpu_utilization"), ("MEM", "memory_utilization"), ("DSK", "disk_utilization"))
_HISTORY = {"cpu_utilization": "cpu", "memory_utilization": "memory", "disk_utilization": "disk"}


_READ_STATES = frozenset({IdleState.IDLE, IdleState.ACTIVE, IdleState.SNOOZE})
"""States in which the worker's activity has been read and its idle time means something."""


class _ActivityPanel(Panel):
    """A panel that also shows fields activity events set: it repaints on its worker's events
    (the view-model holds their values; the other panels wait for the next snapshot)."""

    def on_mount(self) -> None:
        # Textual calls Panel.on_mount too (handlers run for every class in the MRO): calling
        # it here as well subscribed the panel to the snapshots twice, and built it twice.
        self._bus.activity.subscribe(self, self._on_activity, immediate=True)

    def _on_activity(self, message: ActivityArrived) -> None:
        if message.event.worker_id == self.worker_id:
            self._update()

    def shown(self, name: str) -> object:
        """A field of the selected worker as the screen shows it (an event's value first)."""
        return self._view.value(self.worker_id, name) if self.worker_id else None


class IdleStatusPanel(_ActivityPanel):
    """Idle detection, idle time, target pause, snooze; patched by its own activity fields."""

    def __init__(
        self,
        bus: Bus,
        view: FleetView,
        clock: Clock,
        config: Config,
        *,
        read_only: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(bus, view, clock, id=id)
        self._config = config
        self._read_only = read_only or config.read_only

    def fill(self, text: Text, dto: CMLWorkerDto, width: int) -> None:
        wid = dto.id
        now = self._clock.now()
        view = self._view
        enabled = view.detection_enabled(wid)
        unconfirmed = view.is_held(wid, DETECTION)
        switch = Text("ON" if enabled else "OFF", "bold green" if enabled else "bold")
        if not self._config.idle.enabled:
            switch = Text("OFF (globally)", "bold")
        elif not unconfirmed:
            switch.append(_switch_source(dto, enabled), "dim")
        if unconfirmed:
            switch.append(" (unconfirmed)", "italic yellow")
        _line(text, "Detection", switch)
        state = view.idle_state(wid)
        known = state in _READ_STATES and dto.is_idle is not None  # telemetry read: no guess
        if not known or dto.idle_minutes is None:
            _line(text, "Idle for", f"{NONE} ({self._why_unknown(dto, state)})", "dim")
        else:
            idle_for = duration(dto.idle_minutes * 60)
            timeout = f"{self._config.idle.timeout_minutes:g}m"
            if dto.is_idle:
                word = idle_words(IdleState.IDLE).short
                _line(text, "Idle for", f"{idle_for}  {word} (timeout {timeout})", "bold yellow")
            else:
                _line(text, "Idle for", f"{idle_for}  (timeout {timeout})")
        target = self.shown("target_pause_at")
        auto = self._config.idle.auto_pause and not self._read_only
        why_not = "read-only" if self._config.idle.auto_pause else "auto-pause off"
        if not known or not isinstance(target, datetime):
            _line(text, "Pause at", NONE, "dim")
        elif target <= now:
            due = local_time(target, now=now)
            if auto:
                _line(text, "Pausing", f"now (due since {due})", "bold yellow")
            else:
                _line(text, "Would pause", f"now (due {due}; {why_not})", "yellow")
        elif auto:
            _line(text, "Pauses at", f"{local_time(target, now=now)} (auto-pause on)", "bold")
        else:
            _line(text, "Would pause", f"at {local_time(target, now=now)} ({why_not})")
        if state is IdleState.SNOOZE and dto.snooze_ends_at:
            _line(text, "Snooze", f"until {local_time(dto.snooze_ends_at, now=now)}", "cyan")
        else:
            _line(text, "Snooze", "no", "dim")
        last = self.shown("last_activity_at")
        checked = self.shown("last_activity_check_at")
        activity = shown_time(dto, "last_activity_at", last, now=now) or NONE
        if isinstance(checked, datetime):
            activity += f" · checked {local_time(checked, now=now)}"
        _line(text, "Activity", activity)
        text.rstrip()

    def _why_unknown(self, dto: CMLWorkerDto, state: IdleState | None) -> str:
        """Why no idle time is shown, in the domain's words."""
        if state is None:
            return f"worker {dto.status.value}"
        if state is IdleState.UNKNOWN and self._view.is_held(dto.id, "last_activity_check_at"):
            return "activity read; shown from the next refresh"
        return idle_words(state).long


class PausePanel(_ActivityPanel):
    """State, last pause and resume, by whom, why, counters; patched by pause/resume events."""

    def fill(self, text: Text, dto: CMLWorkerDto, width: int) -> None:
        now = self._clock.now()
        shown = self.shown
        in_flight = self._view.in_flight(dto.id)
        state = self._view.status_word(dto.id)
        _line(text, "State", state, "bold italic yellow" if in_flight else "bold")
        paused_at = shown_time(dto, "last_paused_at", shown("last_paused_at"), now=now)
        if paused_at is not None:
            by = shown("paused_by") or "unknown"
            reason = shown("pause_reason")
            why = getattr(reason, "value", reason) or "?"
            _line(text, "Last pause", f"{paused_at} by {by} ({why})")
        else:
            _line(text, "Last pause", "never", "dim")
        resumed = shown_time(dto, "last_resumed_at", shown("last_resumed_at"), now=now)
        if resumed is not None:
            by = shown("resumed_by") or "unknown"
            _line(text, "Last resume", f"{resumed} by {by}")
        else:
            _line(text, "Last resume", "never", "dim")
        _line(
            text,
            "Auto/manual",
            f"pauses {shown('auto_pause_count')}/{shown('manual_pause_count')}"
            f" · resumes {shown('auto_resume_count')}/{shown('manual_resume_count')}",
        )
        _line(text, "Price", price_text(dto))
        _line(text, "Saved", saved_text(dto, now))
        text.rstrip()


def price_text(dto: CMLWorkerDto) -> Text:
    """ "$3.96/h (api)", or "? no known price in eu-north-1" (never another region's rate)."""
    if dto.hourly_price is None:
        where = shown(dto.aws_region, limit=40) if dto.instance_type else "no instance type"
        return Text(f"{UNPRICED} no known price ({where})", "#ff6b6b")
    text = Text(f"{money(dto.hourly_price)}/h")
    text.append(f" ({dto.price_source})", "dim")
    return text


def saved_text(dto: CMLWorkerDto, now: datetime) -> Text:
    """ "$15.86 since Mar 02 10:00 · auto $3.96 · manual $11.90 (audit log, pause tags)"."""
    s = dto.savings
    if s.stopped_hours <= 0:
        return Text("nothing yet (never stopped while watched)", "dim")
    if s.saved_usd is None:
        return Text(f"{UNPRICED} {duration(s.stopped_hours * 3600)} stopped, no known price", "dim")
    text = Text(money(s.saved_usd), "bold green")
    if s.since is not None:
        text.append(f" since {local_time(s.since, now=now)}")
    for label, value in (("auto", s.auto_usd), ("manual", s.manual_usd), ("other", s.external_usd)):
        if value:
            text.append(f" · {label} {money(value)}")
    if s.basis:
        text.append(f" ({', '.join(s.basis)})", "dim")
    return text


class HealthPanel(Panel):
    """CML service, version, health, license, stale data and errors: snapshots only."""

    def fill(self, text: Text, dto: CMLWorkerDto, width: int) -> None:
        now = self._clock.now()
        service = Text(dto.service_status.value, _SERVICE_STYLE.get(dto.service_status.value, ""))
        if dto.cml_version:
            service.append(f" · {dto.cml_version}")
        # CML boots in phases after a start: refusing, then answering but not ready, then ready.
        booting = dto.service_status.value == "starting"
        if dto.cml_ready:
            service.append(" · ready")
        elif dto.cml_ready is False:
            service.append(" · answers, not ready yet" if booting else " · NOT READY")
        elif booting:
            service.append(" · not answering yet")
        if dto.cml_uptime_seconds is not None:
            service.append(f" · up {duration(dto.cml_uptime_seconds)}")
        _line(text, "CML", service)
        if dto.cml_stale_seconds is not None:
            synced = local_time(dto.cml_last_synced_at, seconds=True, now=now)
            _line(
                text,
                "Stale",
                f"CML data {duration(dto.cml_stale_seconds)} old (last good {synced})",
                "bold #ff6b6b",
            )
        health = dto.cml_system_health
        if health:
            words = [
                "valid" if health.get("valid") else "INVALID",
                "licensed" if health.get("is_licensed") else "UNLICENSED",
            ]
            if health.get("is_enterprise"):
                words.append("enterprise")
            _line(text, "Health", " · ".join(words), "" if health.get("valid") else "yellow")
        license_word = licence_word(dto) or NONE
        raw = _license_raw(dto.cml_license_info)
        style = licence_style(license_word)
        _line(text, "License", license_word + (f" ({raw})" if raw else ""), style)
        labs = NONE
        if dto.cml_labs_count is not None:
            labs = f"{dto.active_labs_count or 0} running of {dto.cml_labs_count}"
            if dto.running_nodes is not None:
                labs += f" · {dto.running_nodes} nodes up"
        _line(text, "Labs", labs)
        _line(text, "Instance", f"{dto.id} · {dto.instance_type or NONE} · {dto.aws_region}")
        for source, error in sorted(dto.errors.items()):
            _line(text, f"Error {source}"[: LABEL - 1], error, "#ff6b6b")
        text.rstrip()


class LabsPanel(Panel):
    """The selected worker's labs: title, owner, state, nodes. Snapshots only."""

    NOTHING_SELECTED: ClassVar[str] = ""

    def fill(self, text: Text, dto: CMLWorkerDto, width: int) -> None:
        if dto.labs is None:
            if dto.status is not WorkerStatus.RUNNING:
                text.append(f"no labs while the worker is {dto.status.value}", "dim")
                return
            text.append("labs unknown (CML not reachable)", "dim")
            return
        if not dto.labs:
            text.append("no labs", "dim")
            return
        title_width = max(8, width - 28)
        text.append(f"{'TITLE':<{title_width}} {'OWNER':<10} {'STATE':<9} NODES\n", "bold")
        for lab in sorted(dto.labs, key=lambda lab: (lab.state != "STARTED", lab.title.lower())):
            style = "green" if lab.state == "STARTED" else "dim"
            nodes = NONE if lab.node_count is None else str(lab.node_count)
            # Lab titles, owners and states come from CML: visible, and padded by cell width.
            text.append(f"{fit_cells(lab.title, title_width)} {fit_cells(lab.owner or NONE, 10)} ")
            text.append(fit_cells(lab.state, 9), style)
            text.append(f" {nodes:>5}\n")
        text.rstrip()


def _switch_source(dto: CMLWorkerDto, enabled: bool) -> str:
    """Why the per-worker switch is what it is: its EC2 tag, or the config default."""
    if idle_detection_tag(dto.aws_tags) is None:
        return " (default)" if not enabled else ""
    return " (by tag)" if not enabled else ""


_SERVICE_STYLE = {
    "available": "bold green",
    "degraded": "bold yellow",
    "error": "bold #ff6b6b",
    "starting": "cyan",
    "unavailable": "dim",
}


def _license_raw(info: dict[str, object] | None) -> str:
    """The raw registration/authorization strings, kept visible (a licence the
    table calls `invalid` still says which status CML gave)."""
    if not info:
        return ""
    parts = []
    for key in ("registration", "authorization"):
        block = info.get(key)
        if isinstance(block, dict) and block.get("status"):
            parts.append(str(block["status"]))
    return "/".join(parts)
