"""The cost screen (`$`): burn, idle burn and savings by owner, by instance type and by region.

Everything comes from the snapshot channel through `cost_totals`/`cost_breakdown`, the same
arithmetic as the header and the JSON fleet block. Owner names come from tags: they are shown
as plain text, with control and format characters made visible, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from cmltui.api.cost import HOURS_PER_MONTH, CostTotals, GroupBy, cost_breakdown, cost_totals
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import FleetSnapshot
from cmltui.clock import Clock
from cmltui.keymap import Scope
from cmltui.tui.bus import Bus, SnapshotArrived
from cmltui.tui.fmt import NONE, UNPRICED, local_time, money, money_short
from cmltui.tui.hints import closing_bindings, own_hint
from cmltui.tui.host import host_of
from cmltui.tui.safe import fit_cells, shown

WIDE = 100
"""From this width the tables split savings into auto and manual columns."""
NAME_WIDTH = 24
SECTIONS: tuple[tuple[GroupBy, str], ...] = (
    ("owner", "By owner"),
    ("instance_type", "By instance type"),
    ("region", "By region"),
)


def burn_cell(burn: float, unpriced: int) -> Text:
    """ "$8.33", "$8.33+?" when some running workers have no price, "?" when none has."""
    if unpriced and not burn:
        return Text(UNPRICED, "bold #ff6b6b")
    text = Text(money(burn))
    if unpriced:
        text.append(f"+{UNPRICED}", "bold #ff6b6b")
    return text


def summary(totals: CostTotals, now: datetime) -> Text:
    """Above the tables: burn, projections, savings, what they rest on, what is left out."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Burn now ", "dim")
    text.append(f"{money(totals.burn_per_hour)}/h", "bold")
    text.append("  idle ", "dim")
    text.append(f"{money(totals.idle_burn_per_hour)}/h", "bold yellow")
    text.append(f" ({totals.idle} idle)", "dim")
    text.append("  day ", "dim")
    text.append(money_short(totals.projected_day))
    text.append("  month ", "dim")
    text.append(money_short(totals.projected_month))
    text.append("\n")
    text.append("Saved ", "dim")
    text.append(money(totals.saved_usd), "bold green")
    if totals.saved_since is not None:
        text.append(f" since {local_time(totals.saved_since, now=now)}")
    text.append(f" · based on {', '.join(totals.basis) or 'no stop seen yet'}\n", "dim")
    text.append("  auto-pause ", "dim")
    text.append(money(totals.saved_auto_usd), "green")
    text.append(" · manual ", "dim")
    text.append(money(totals.saved_manual_usd))
    text.append(" · other stops ", "dim")
    text.append(money(totals.saved_external_usd))
    text.append("\n")
    sources = ", ".join(f"{name} {count}" for name, count in sorted(totals.price_sources.items()))
    text.append(
        f"Prices (workers by source): {sources or NONE} · month = {HOURS_PER_MONTH} h", "dim"
    )
    left_out = totals.left_out()
    if left_out:
        text.append("\n")
        # It names regions (outside text): shown as the sanitiser shows it.
        text.append(f"{UNPRICED} Not in the totals: {shown(left_out)}", "bold #ff6b6b")
    return text


def breakdown_table(title: str, rows: Sequence[tuple[str, CostTotals]], *, wide: bool) -> Table:
    table = Table(
        title=Text(title, "bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=False,
    )
    table.add_column("", no_wrap=True, min_width=16, max_width=NAME_WIDTH)
    for header in ("run", "stop", "idle"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("burn/h", justify="right", no_wrap=True)
    table.add_column("idle/h", justify="right", no_wrap=True)
    table.add_column("saved", justify="right", no_wrap=True)
    if wide:
        table.add_column("auto", justify="right", no_wrap=True)
        table.add_column("manual", justify="right", no_wrap=True)
    for name, t in rows:
        cells: list[Text | str] = [
            Text(fit_cells(name, NAME_WIDTH).rstrip()),
            str(t.running),
            str(t.stopped),
            Text(str(t.idle), "yellow" if t.idle else ""),
            burn_cell(t.burn_per_hour, t.unpriced_running),
            Text(money(t.idle_burn_per_hour), "yellow" if t.idle_burn_per_hour else "dim"),
            burn_cell(t.saved_usd, t.unpriced_stopped),
        ]
        if wide:
            cells += [money(t.saved_auto_usd), money(t.saved_manual_usd)]
        table.add_row(*cells)
    return table


def cost_view(workers: Sequence[CMLWorkerDto], now: datetime, width: int) -> Group:
    """The whole screen's content for a width (pure: tests render it without a terminal)."""
    wide = width >= WIDE
    parts: list[Text | Table] = [summary(cost_totals(workers), now)]
    for by, title in SECTIONS:
        parts.append(Text(""))
        parts.append(breakdown_table(title, cost_breakdown(workers, by), wide=wide))
    return Group(*parts)


class CostScreen(Screen[None]):
    """Full-screen cost breakdown; follows new snapshots while open."""

    SCOPE: ClassVar = Scope.INFO
    BINDINGS: ClassVar = closing_bindings("close", "cost")
    DEFAULT_CSS = """
    CostScreen > VerticalScroll { padding: 0 1; border: round $accent; }
    CostScreen Static { width: 100%; height: auto; }
    """

    def __init__(self, bus: Bus, snapshot: FleetSnapshot | None, clock: Clock) -> None:
        super().__init__()
        self._bus = bus
        self._snapshot = snapshot
        self._clock = clock

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Cost"
            close = own_hint(self.BINDINGS, "close", "{key} to close", host_of(self).hints)
            scroll.border_subtitle = Text(close)
            yield Static(id="cost-body")

    def on_mount(self) -> None:
        self._bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _on_snapshot(self, message: SnapshotArrived) -> None:
        self._snapshot = message.snapshot
        self._show()

    def _show(self) -> None:
        body = self.query_one("#cost-body", Static)
        if self._snapshot is None:
            body.update(Text("No snapshot yet: collecting…", "italic"))
            return
        width = self.size.width or 80
        body.update(cost_view(self._snapshot.workers, self._clock.now(), width))

    def action_close(self) -> None:
        self.dismiss(None)
