"""The header: fleet totals, where the data comes from, last update and safety markers.

Snapshot channel only. Totals are a pure function so they can be checked without a screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from cmltui.domain.enums import WorkerStatus
from cmltui.dto import CMLWorkerDto
from cmltui.tui.backend import BackendContext
from cmltui.tui.bus import Bus, SnapshotArrived
from cmltui.tui.fmt import local_time, money


@dataclass(frozen=True)
class FleetTotals:
    workers: int = 0
    running: int = 0
    stopped: int = 0
    idle: int = 0
    busy: int = 0
    burn_per_hour: float = 0.0
    stale: int = 0


def fleet_totals(workers: Iterable[CMLWorkerDto]) -> FleetTotals:
    """Busy = running with at least one started lab and not idle; burn = sum of hourly costs."""
    counts = {"workers": 0, "running": 0, "stopped": 0, "idle": 0, "busy": 0, "stale": 0}
    burn = 0.0
    for dto in workers:
        counts["workers"] += 1
        running = dto.status is WorkerStatus.RUNNING
        counts["running"] += running
        counts["stopped"] += dto.status is WorkerStatus.STOPPED
        counts["idle"] += running and dto.is_idle is True
        counts["busy"] += running and dto.is_idle is not True and (dto.active_labs_count or 0) > 0
        counts["stale"] += dto.cml_stale_seconds is not None
        burn += dto.hourly_cost or 0.0
    return FleetTotals(burn_per_hour=burn, **counts)


class FleetHeader(Widget):
    DEFAULT_CSS = "FleetHeader { height: 2; background: $panel; }"

    def __init__(self, bus: Bus, context: BackendContext, interval: float, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._bus = bus
        self._source = context
        self._interval = interval
        self._totals = FleetTotals()
        self._updated_at: datetime | None = None
        self._errors: tuple[str, ...] = ()
        self._shown: Text | None = None

    def on_mount(self) -> None:
        self._bus.snapshots.subscribe(self, self._on_snapshot)

    def _on_snapshot(self, message: SnapshotArrived) -> None:
        self._totals = fleet_totals(message.snapshot.workers)
        self._updated_at = message.snapshot.collected_at
        self._errors = message.snapshot.errors
        self._update()

    def set_interval(self, seconds: float) -> None:
        self._interval = seconds
        self._update()

    def _update(self) -> None:
        text = self.build(self.size.width or 80)
        if text != self._shown:
            self._shown = text
            self.refresh()

    def render(self) -> Text:
        return self.build(self.size.width or 80)

    def build(self, width: int) -> Text:
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
        top.append(f"  profile {ctx.profile or 'default'}", "")
        top.append(f" · {','.join(ctx.regions) or '—'}", "")
        right = Text(no_wrap=True)
        if self._updated_at is not None:
            right.append(f"updated {local_time(self._updated_at, seconds=True)}")
        else:
            right.append("collecting…", "italic")
        right.append(f" · every {self._interval:g}s ")
        gap = width - top.cell_len - right.cell_len
        if gap >= 1:
            top.append(" " * gap)
            top.append_text(right)
        t = self._totals
        bottom = Text(no_wrap=True, overflow="ellipsis")
        bottom.append(" running ", "dim")
        bottom.append(str(t.running), "bold green")
        bottom.append("  stopped ", "dim")
        bottom.append(str(t.stopped), "bold")
        bottom.append("  idle ", "dim")
        bottom.append(str(t.idle), "bold yellow" if t.idle else "bold")
        bottom.append("  busy ", "dim")
        bottom.append(str(t.busy), "bold")
        bottom.append("  burn ", "dim")
        bottom.append(f"{money(t.burn_per_hour)}/h", "bold")
        bottom.append(f"  of {t.workers}", "dim")
        if t.stale:
            bottom.append(f"  {t.stale} stale!", "bold #ff6b6b")
        if self._errors:
            bottom.append(f"  {len(self._errors)} region error(s)!", "bold #ff6b6b")
        return Text("\n").join([top, bottom])
