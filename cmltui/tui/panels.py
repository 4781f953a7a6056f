"""The detail pane's panels for the selected worker, each on its own channel(s).

- `GaugesPanel` and `SparklinesPanel` (side by side in a `GaugesRow`): CPU, memory and disk
  gauges and their sparklines; snapshots only.
- `IdleStatusPanel`: idle detection; full state from snapshots, its own fields from events.
- `PausePanel`: pause/resume state and history; likewise.
- `HealthPanel` and `LabsPanel`: CML health, license, errors, labs; snapshots only.

Each panel keeps the latest DTO of every worker, so switching the selection needs no new data,
and repaints only when what it shows has changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from rich.text import Text
from textual.containers import Horizontal
from textual.events import Resize
from textual.geometry import Region
from textual.widget import Widget

from cmltui.api.dto import CMLWorkerDto
from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.tags import idle_detection_tag
from cmltui.tui.bus import ActivityArrived, Bus, SnapshotArrived
from cmltui.tui.fmt import (
    NONE,
    UNPRICED,
    duration,
    gauge_bar,
    level,
    licence_word,
    local_time,
    money,
    percent,
    shown_time,
    sparkline,
)
from cmltui.tui.history import FleetHistory
from cmltui.tui.overlay import IDLE_FIELDS, IN_FLIGHT_FIELD, PAUSE_FIELDS, Overlay
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

    def __init__(self, bus: Bus, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._bus = bus
        self._clock = clock
        self._dtos: Mapping[str, CMLWorkerDto] = {}
        self._collected_at: datetime | None = None
        self.worker_id: str | None = None
        self._shown: ShownText | None = None
        self._built: tuple[int, Text] | None = None  # (width, text) of the last `_update`
        self.regions_refreshed: list[Region] | None = None  # last repaint; None = whole panel

    def on_mount(self) -> None:
        self._bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)

    def _on_snapshot(self, message: SnapshotArrived) -> None:
        self._dtos = message.workers_by_id  # one map per snapshot, shared by every panel
        self._collected_at = message.snapshot.collected_at
        self.after_snapshot(message)
        self._update()

    def after_snapshot(self, message: SnapshotArrived) -> None:
        """Hook for panels that reconcile event patches against the snapshot."""

    def select(self, worker_id: str | None) -> None:
        if worker_id != self.worker_id:
            self.worker_id = worker_id
            self._update()

    @property
    def dto(self) -> CMLWorkerDto | None:
        return self._dtos.get(self.worker_id) if self.worker_id else None

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

    def build(self, width: int) -> Text:
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
        clock: Clock,
        config: Config,
        history: FleetHistory,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(bus, clock, id=id)
        self._thresholds = config.ui.thresholds
        self._history = history


class GaugesPanel(_MetricsPanel):
    """Utilization gauges (sparklines beside them): snapshots only, never activity events."""

    DEFAULT_CSS = "GaugesPanel { width: 1fr; }"
    bar_width: int | None = None  # set by the row; else from the width

    def build(self, width: int) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        dto = self.dto
        if dto is None:
            return text.append("no worker selected", "dim")
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
        return text


class SparklinesPanel(_MetricsPanel):
    """The selected worker's utilization history, one sparkline per gauge; snapshots only."""

    DEFAULT_CSS = "SparklinesPanel { width: 0; height: 3; }"

    def build(self, width: int) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        dto = self.dto
        if dto is None:
            return text
        for i, (_, metric) in enumerate(_METRICS):
            lvl = level(getattr(dto, metric), self._thresholds)
            text.append(sparkline(self._history.series(dto.id, _HISTORY[metric]), width), lvl.style)
            if i < len(_METRICS) - 1:
                text.append("\n")
        return text


_METRICS = (("CPU", "cpu_utilization"), ("MEM", "memory_utilization"), ("DSK", "disk_utilization"))
_HISTORY = {"cpu_utilization": "cpu", "memory_utilization": "memory", "disk_utilization": "disk"}


class IdleStatusPanel(Panel):
    """Idle detection, idle time, target pause, snooze; patched by its own activity fields."""

    def __init__(
        self,
        bus: Bus,
        clock: Clock,
        config: Config,
        *,
        read_only: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(bus, clock, id=id)
        self._config = config
        self._read_only = read_only or config.read_only
        self.overlay = Overlay(IDLE_FIELDS, timedelta(seconds=config.idle.settle_seconds))

    def on_mount(self) -> None:
        # Textual calls Panel.on_mount too (handlers run for every class in the MRO): calling
        # it here as well subscribed the panel to the snapshots twice, and built it twice.
        self._bus.activity.subscribe(self, self._on_activity, immediate=True)

    def after_snapshot(self, message: SnapshotArrived) -> None:
        snapshot = message.snapshot
        self.overlay.forget_except(self._dtos)
        for worker_id in self.overlay.patched_workers():  # nearly always none
            dto = self._dtos[worker_id]
            values = {name: getattr(dto, name) for name in IDLE_FIELDS}
            self.overlay.reconcile(worker_id, values, snapshot.collected_at)

    def _on_activity(self, message: ActivityArrived) -> None:
        if self.overlay.apply(message.event) and message.event.worker_id == self.worker_id:
            self._update()

    def shown(self, worker_id: str, name: str) -> object:
        dto = self._dtos.get(worker_id)
        return self.overlay.value(worker_id, name, getattr(dto, name) if dto else None)

    def shown_enabled(self, worker_id: str) -> bool | None:
        """Idle detection as the screen shows it (what a toggle flips)."""
        if worker_id not in self._dtos:
            return None
        return bool(self.shown(worker_id, "is_idle_detection_enabled"))

    def build(self, width: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        dto = self.dto
        if dto is None:
            return text.append("no worker selected", "dim")
        wid = dto.id
        now = self._clock.now()
        enabled = bool(self.shown(wid, "is_idle_detection_enabled"))
        unconfirmed = self.overlay.patched(wid, "is_idle_detection_enabled")
        switch = Text("ON" if enabled else "OFF", "bold green" if enabled else "bold")
        if not self._config.idle.enabled:
            switch = Text("OFF (globally)", "bold")
        elif not unconfirmed:
            switch.append(_switch_source(dto, enabled), "dim")
        if unconfirmed:
            switch.append(" (unconfirmed)", "italic yellow")
        _line(text, "Detection", switch)
        running = dto.status is WorkerStatus.RUNNING
        active = running and enabled and self._config.idle.enabled
        known = dto.is_idle is not None  # telemetry read: never a guess
        if not active or not known or dto.idle_minutes is None:
            why = ""
            if not running:
                why = f" (worker {dto.status.value})"
            elif not enabled or not self._config.idle.enabled:
                why = " (detection off)"
            elif isinstance(self.shown(wid, "last_activity_check_at"), datetime):
                why = " (activity read; shown from the next refresh)"
            else:
                why = " (unknown: activity not read yet)"
            _line(text, "Idle for", NONE + why, "dim")
        else:
            idle_for = duration(dto.idle_minutes * 60)
            timeout = f"{self._config.idle.timeout_minutes:g}m"
            if dto.is_idle:
                _line(text, "Idle for", f"{idle_for}  IDLE (timeout {timeout})", "bold yellow")
            else:
                _line(text, "Idle for", f"{idle_for}  (timeout {timeout})")
        target = self.shown(wid, "target_pause_at")
        auto = self._config.idle.auto_pause and not self._read_only
        why_not = "read-only" if self._config.idle.auto_pause else "auto-pause off"
        if not active or not known or not isinstance(target, datetime):
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
        if running and dto.in_snooze_period and dto.snooze_ends_at:
            _line(text, "Snooze", f"until {local_time(dto.snooze_ends_at, now=now)}", "cyan")
        else:
            _line(text, "Snooze", "no", "dim")
        last = self.shown(wid, "last_activity_at")
        checked = self.shown(wid, "last_activity_check_at")
        activity = shown_time(dto, "last_activity_at", last, now=now) or NONE
        if isinstance(checked, datetime):
            activity += f" · checked {local_time(checked, now=now)}"
        _line(text, "Activity", activity)
        text.rstrip()
        return text


class PausePanel(Panel):
    """State, last pause and resume, by whom, why, counters; patched by pause/resume events."""

    def __init__(self, bus: Bus, clock: Clock, config: Config, *, id: str | None = None) -> None:
        super().__init__(bus, clock, id=id)
        self.overlay = Overlay(PAUSE_FIELDS, timedelta(seconds=config.idle.settle_seconds))

    def on_mount(self) -> None:
        # Textual calls Panel.on_mount too (handlers run for every class in the MRO): calling
        # it here as well subscribed the panel to the snapshots twice, and built it twice.
        self._bus.activity.subscribe(self, self._on_activity, immediate=True)

    def after_snapshot(self, message: SnapshotArrived) -> None:
        snapshot = message.snapshot
        self.overlay.forget_except(self._dtos)
        for worker_id in self.overlay.patched_workers():  # nearly always none
            dto = self._dtos[worker_id]
            values = {name: getattr(dto, name) for name in PAUSE_FIELDS if name != IN_FLIGHT_FIELD}
            values[IN_FLIGHT_FIELD] = dto.status.value
            self.overlay.reconcile(worker_id, values, snapshot.collected_at)

    def _on_activity(self, message: ActivityArrived) -> None:
        if self.overlay.apply(message.event) and message.event.worker_id == self.worker_id:
            self._update()

    def _value(self, dto: CMLWorkerDto, name: str) -> object:
        snapshot_value = dto.status.value if name == IN_FLIGHT_FIELD else getattr(dto, name)
        return self.overlay.value(dto.id, name, snapshot_value)

    def build(self, width: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        dto = self.dto
        if dto is None:
            return text.append("no worker selected", "dim")
        now = self._clock.now()
        state = str(self._value(dto, IN_FLIGHT_FIELD))
        in_flight = self.overlay.patched(dto.id, IN_FLIGHT_FIELD)
        _line(text, "State", state, "bold italic yellow" if in_flight else "bold")
        paused_at = shown_time(dto, "last_paused_at", self._value(dto, "last_paused_at"), now=now)
        if paused_at is not None:
            by = self._value(dto, "paused_by") or "unknown"
            reason = self._value(dto, "pause_reason")
            why = getattr(reason, "value", reason) or "?"
            _line(text, "Last pause", f"{paused_at} by {by} ({why})")
        else:
            _line(text, "Last pause", "never", "dim")
        resumed = shown_time(dto, "last_resumed_at", self._value(dto, "last_resumed_at"), now=now)
        if resumed is not None:
            by = self._value(dto, "resumed_by") or "unknown"
            _line(text, "Last resume", f"{resumed} by {by}")
        else:
            _line(text, "Last resume", "never", "dim")
        _line(
            text,
            "Auto/manual",
            f"pauses {self._value(dto, 'auto_pause_count')}"
            f"/{self._value(dto, 'manual_pause_count')}"
            f" · resumes {self._value(dto, 'auto_resume_count')}"
            f"/{self._value(dto, 'manual_resume_count')}",
        )
        _line(text, "Price", price_text(dto))
        _line(text, "Saved", saved_text(dto, now))
        text.rstrip()
        return text


def price_text(dto: CMLWorkerDto) -> Text:
    """ "$3.96/h (api)", or "? no known price in eu-north-1" (never another region's rate)."""
    if dto.hourly_price is None:
        where = dto.aws_region if dto.instance_type else "no instance type"
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

    def build(self, width: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        dto = self.dto
        if dto is None:
            return text.append("no worker selected", "dim")
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
        style = {"registered": "green", "evaluation": "yellow"}.get(license_word, "#ff6b6b")
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
        return text


class LabsPanel(Panel):
    """The selected worker's labs: title, owner, state, nodes. Snapshots only."""

    def build(self, width: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        dto = self.dto
        if dto is None:
            return text
        if dto.labs is None:
            if dto.status is not WorkerStatus.RUNNING:
                return text.append(f"no labs while the worker is {dto.status.value}", "dim")
            return text.append("labs unknown (CML not reachable)", "dim")
        if not dto.labs:
            return text.append("no labs", "dim")
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
        return text


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
    """The raw registration/authorization strings, kept visible (SPEC §2.1)."""
    if not info:
        return ""
    parts = []
    for key in ("registration", "authorization"):
        block = info.get(key)
        if isinstance(block, dict) and block.get("status"):
            parts.append(str(block["status"]))
    return "/".join(parts)
