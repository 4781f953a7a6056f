"""The header: fleet totals, where the data comes from, last update and safety markers.

Snapshot channel only. Totals are a pure function so they can be checked without a screen.
Only the cells that changed are repainted, so a refresh in which nothing else changed writes
just the new update time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual.geometry import Region
from textual.widget import Widget

from cmltui.api.backend import BackendContext, SourceStatus
from cmltui.api.cost import CostTotals, cost_totals
from cmltui.api.dto import CMLWorkerDto
from cmltui.domain.enums import WorkerStatus
from cmltui.tui.bus import Bus, SnapshotArrived
from cmltui.tui.fmt import UNPRICED, local_time, money, money_short
from cmltui.tui.repaint import ShownText, changed_text_regions
from cmltui.tui.safe import shown


@dataclass(frozen=True)
class FleetTotals:
    workers: int = 0
    running: int = 0
    stopped: int = 0
    idle: int = 0
    busy: int = 0
    unknown: int = 0  # running, detection on, telemetry not read yet
    stale: int = 0
    cost: CostTotals = field(default_factory=CostTotals)  # burn, idle burn, projections


def fleet_totals(workers: Iterable[CMLWorkerDto]) -> FleetTotals:
    """Idle, busy (active) and unknown counted apart; money from `cost_totals`.

    A running worker whose telemetry has not been read is unknown, never busy or idle.
    """
    workers = list(workers)
    counts = dict.fromkeys(("workers", "running", "stopped", "idle", "busy", "unknown", "stale"), 0)
    by_state = {"idle": "idle", "active": "busy", "unknown": "unknown"}
    cost = cost_totals(workers)
    for dto in workers:
        counts["workers"] += 1
        counts["running"] += dto.status is WorkerStatus.RUNNING
        counts["stopped"] += dto.status is WorkerStatus.STOPPED
        state = dto.idle_state
        if state == "snooze":  # counted by its verdict until the header shows snooze apart
            state = {True: "idle", False: "active"}.get(dto.is_idle, "unknown")  # type: ignore[arg-type]
        if state in by_state:
            counts[by_state[state]] += 1
        counts["stale"] += dto.cml_stale_seconds is not None
    return FleetTotals(cost=cost, **counts)


def progress_bar(fraction: float, width: int = 12) -> str:
    """A bar with its percentage in words, so it reads without colour: `▕██████░░░░░░▏ 50%`."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return f"▕{'█' * filled}{'░' * (width - filled)}▏ {fraction:.0%}"


def stamp_text(updated_at: datetime | None, interval: float) -> Text:
    """ "updated HH:MM:SS · every 10s " (or "collecting…" before the first snapshot)."""
    text = Text(no_wrap=True)
    if updated_at is not None:
        text.append(f"updated {local_time(updated_at, seconds=True)}")
    else:
        text.append("collecting…", "italic")
    text.append(f" · every {interval:g}s ")
    return text


class UpdateStamp(Widget):
    """ "updated HH:MM:SS · every 10s" at the header's right end, as its own widget.

    Textual writes a changed span from the left edge of the widget that owns it, so the ticking
    time lives in a narrow widget of its own: a quiet refresh writes a few cells, not a line.
    It listens to the snapshot channel itself, so its repaint joins the same frame as the rest.
    """

    DEFAULT_CSS = "UpdateStamp { dock: right; width: auto; height: 1; }"

    def __init__(self, bus: Bus, interval: float) -> None:
        super().__init__()
        self._bus = bus
        self._interval = interval
        self._updated_at: datetime | None = None
        self._text = stamp_text(None, interval)
        self._shown: ShownText | None = None
        self.regions_refreshed: list[Region] | None = None  # last repaint; None = whole stamp

    def on_mount(self) -> None:
        self._bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)

    def _on_snapshot(self, message: SnapshotArrived) -> None:
        self._updated_at = message.snapshot.collected_at
        self._update()

    def set_interval(self, seconds: float) -> None:
        self._interval = seconds
        self._update()

    def _update(self) -> None:
        text = stamp_text(self._updated_at, self._interval)
        shown = ShownText(text)
        regions = None
        if self._shown is not None and text.cell_len == self._text.cell_len:
            regions = changed_text_regions(self._shown, shown, text.cell_len)
        self._text = text
        self._shown = shown
        self.regions_refreshed = regions
        if regions is None:
            self.refresh(layout=True)  # its width follows the text
        elif regions:
            self.refresh(*regions)

    def render(self) -> Text:
        return self._text


WIDE_HEADER = 120
"""From this width the totals line spells its words out."""


class FleetHeader(Widget):
    """Two lines: source and safety markers (plus the update stamp), then the fleet totals."""

    DEFAULT_CSS = "FleetHeader { height: 2; background: $panel; }"

    def __init__(
        self, bus: Bus, context: BackendContext, interval: float, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._bus = bus
        self._source = context
        self._interval = interval
        self._totals = FleetTotals()
        self._updated_at: datetime | None = None
        self._errors: tuple[str, ...] = ()
        self._status: SourceStatus | None = None
        self._shown: ShownText | None = None
        self.regions_refreshed: list[Region] | None = None  # last repaint; None = whole header
        self.stamp = UpdateStamp(bus, interval)

    def compose(self) -> ComposeResult:
        yield self.stamp

    def on_mount(self) -> None:
        self._bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)
        self._update(whole=True)

    def _on_snapshot(self, message: SnapshotArrived) -> None:
        self._totals = fleet_totals(message.snapshot.workers)
        self._updated_at = message.snapshot.collected_at
        self._errors = message.snapshot.errors
        self._update()

    def set_interval(self, seconds: float) -> None:
        self._interval = seconds
        self.stamp.set_interval(seconds)
        self._update()

    def set_source_status(self, status: SourceStatus) -> None:
        """The source's state (starting, retrying …) beside the profile; nothing when ok."""
        self._status = status
        self._update()

    def on_resize(self, event: Resize) -> None:
        self._update(whole=True)

    def _update(self, *, whole: bool = False) -> None:
        """Repaint only the cells that changed: a quiet refresh moves just the update time."""
        width = self.size.width or 80
        top, _right, bottom = self._fitted(width)
        shown = ShownText(Text("\n").join([top, bottom]))
        regions = None if whole else changed_text_regions(self._shown, shown, width)
        self._shown = shown
        self.regions_refreshed = regions
        if regions is None:
            self.refresh()
        elif regions:
            self.refresh(*regions)

    def render(self) -> Text:
        top, _, bottom = self._fitted(self.size.width or 80)
        return Text("\n").join([top, bottom])

    def build(self, width: int) -> Text:
        """Both lines as the screen shows them: the stamp always, the source cut before it."""
        top, right, bottom = self._fitted(width)
        top.append(" " * max(0, width - top.cell_len - right.cell_len))
        top.append_text(right)
        return Text("\n").join([top, bottom])

    def _fitted(self, width: int) -> tuple[Text, Text, Text]:
        """The update time is never the part that gives way (over SSH it tells the data's
        age): the source line is cut before it instead."""
        top, right, bottom = self._parts()
        room = max(0, width - right.cell_len - 1)
        if top.cell_len > room:
            top.truncate(room, overflow="ellipsis")
        return top, right, bottom

    def _parts(self) -> tuple[Text, Text, Text]:
        ctx = self._source
        top = Text(no_wrap=True, overflow="ellipsis")
        top.append(" cmltui ", "bold reverse")
        for marker, style, on in (
            ("DEMO", "bold black on cyan", ctx.demo),
            ("READ-ONLY", "bold black on yellow", ctx.read_only),
            ("TLS-UNVERIFIED", "bold white on red", not ctx.tls_verified),
        ):
            if on:
                top.append(" ")
                top.append(f"[{marker}]", style)
        # Profile, regions and a service's URL come from the config or the environment: made
        # visible.
        if ctx.source:
            top.append(shown(f"  {ctx.source}", limit=120), "")
        else:
            top.append(shown(f"  profile {ctx.profile or 'default'}", limit=80), "")
            top.append(shown(f" · {','.join(ctx.regions) or '—'}", limit=120), "")
        status = self._status
        if ctx.source and status is not None and status.state == "ok":
            top.append("  connected", "bold green")  # a stream's state is always shown
        if status is not None and status.state != "ok":
            top.append(f"  {status.state}", "bold yellow")
            if status.retry_at is not None:
                top.append(f" at {local_time(status.retry_at, seconds=True)}", "yellow")
            if status.progress is not None:
                top.append(" " + progress_bar(status.progress), "bold yellow")
            if status.detail:
                top.append(": ", "yellow")
                top.append(shown(status.detail, limit=300), "yellow")
        right = stamp_text(self._updated_at, self._interval)
        t = self._totals
        wide = (self.size.width or 80) >= WIDE_HEADER
        bottom = Text(no_wrap=True, overflow="ellipsis")
        for word, short, value, style in (
            ("running", "run", t.running, "bold green"),
            ("stopped", "stop", t.stopped, "bold"),
            ("idle", "idle", t.idle, "bold yellow" if t.idle else "bold"),
            ("busy", "busy", t.busy, "bold"),
            ("?", "?", t.unknown, "bold"),
        ):
            bottom.append(f" {word if wide else short} ", "dim")
            bottom.append(str(value), style)
            bottom.append(" " if wide else "")
        if wide:
            bottom.append(f"of {t.workers} ", "dim")
        bottom.append("│", "dim")
        bottom.append(" burn " if wide else " ", "dim")
        bottom.append(f"{money(t.cost.burn_per_hour)}/h", "bold")
        bottom.append("  idle ", "dim")
        bottom.append(
            f"{money(t.cost.idle_burn_per_hour)}/h",
            "bold yellow" if t.cost.idle_burn_per_hour else "",
        )
        if wide:
            self._projections(bottom, t, wide)
        if t.cost.unpriced_running:
            # Never a silent guess: say how many running workers the money leaves out.
            bottom.append(f"  +{t.cost.unpriced_running}×{UNPRICED}", "bold #ff6b6b")
            if wide:
                bottom.append(" unpriced", "#ff6b6b")
        if t.stale:
            bottom.append(f"  {t.stale} stale!", "bold #ff6b6b")
        if self._errors:
            bottom.append(f"  {len(self._errors)} region error(s)!", "bold #ff6b6b")
        if not wide:  # narrow: the warnings above go first, the projections last
            self._projections(bottom, t, wide)
        return top, right, bottom

    @staticmethod
    def _projections(bottom: Text, t: FleetTotals, wide: bool) -> None:
        """The day and month at the current burn."""
        bottom.append("  day " if wide else "  ", "dim")
        bottom.append(money_short(t.cost.projected_day) + ("" if wide else "/d"))
        bottom.append("  month " if wide else " ", "dim")
        bottom.append(money_short(t.cost.projected_month) + ("" if wide else "/mo"))
