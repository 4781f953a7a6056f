"""The header: fleet totals, where the data comes from, last update and safety markers.

Snapshot channel only. The money and the running, stopped and idle counts are the snapshot's
own `cost()` (`api.cost.CostTotals`, as in the JSON and on the cost screen); the other idle
states are counted by the domain's `IdleState` and named in its words. Only the cells that
changed are repainted, so a refresh in which nothing else changed writes just the new update
time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual.geometry import Region
from textual.widget import Widget

from cmltui.api.backend import BackendContext, SourceStatus
from cmltui.api.cost import CostTotals
from cmltui.api.dto import CMLWorkerDto
from cmltui.domain.accounts import accounts_word
from cmltui.domain.idle import IdleState, idle_words
from cmltui.tui.bus import Bus, SnapshotArrived
from cmltui.tui.fmt import NONE, UNPRICED, local_time, money, money_short
from cmltui.tui.repaint import ShownText, changed_text_regions
from cmltui.tui.safe import shown

COUNTED_STATES = (IdleState.ACTIVE, IdleState.SNOOZE, IdleState.UNKNOWN)
"""Counted beside `CostTotals.idle`, in this order; snooze only on a wide header and when there
is one (at 80 columns the stale and unpriced warnings need the room)."""


@dataclass(frozen=True)
class HeaderCounts:
    """What the header's totals line shows: the fleet's cost totals and the other idle states."""

    cost: CostTotals = field(default_factory=CostTotals)
    states: Mapping[IdleState, int] = field(default_factory=dict)
    stale: int = 0


def header_counts(workers: Iterable[CMLWorkerDto], cost: CostTotals) -> HeaderCounts:
    """The idle states of the workers not counted idle (a worker is counted once, by state),
    and the workers with stale CML data or a stale EC2 listing."""
    states: Counter[IdleState] = Counter()
    stale = 0
    for dto in workers:
        if dto.idle_state is not None and dto.is_idle is not True:
            states[dto.idle_state] += 1
        stale += dto.cml_stale_seconds is not None or dto.ec2_stale_seconds is not None
    return HeaderCounts(cost=cost, states=dict(states), stale=stale)


def progress_bar(fraction: float, width: int = 12) -> str:
    """A bar with its percentage in words, so it reads without colour: `▕██████░░░░░░▏ 50%`."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return f"▕{'█' * filled}{'░' * (width - filled)}▏ {fraction:.0%}"


def stamp_text(
    updated_at: datetime | None, interval: float, failed_at: datetime | None = None
) -> Text:
    """ "updated HH:MM:SS · every 10s ": the last collection that listed the fleet, with
    "last try failed HH:MM:SS" while a later try failed (or "collecting…" before any)."""
    text = Text(no_wrap=True)
    failing = failed_at is not None and (updated_at is None or failed_at > updated_at)
    if updated_at is not None:
        text.append(f"updated {local_time(updated_at, seconds=True)}")
    elif failing:
        text.append("never updated", "bold #ff6b6b")
    else:
        text.append("collecting…", "italic")
    if failing:
        text.append(f" · last try failed {local_time(failed_at, seconds=True)}", "bold #ff6b6b")
    text.append(f" · every {interval:g}s ")
    return text


class UpdateStamp(Widget):
    """ "updated HH:MM:SS · every 10s" at the header's right end, as its own widget.

    Textual writes a changed span from the left edge of the widget that owns it, so the ticking
    time lives in a narrow widget of its own: a quiet refresh writes a few cells, not a line.
    The header hands it its times from the same snapshot handler, so its repaint joins the same
    frame as the rest.
    """

    DEFAULT_CSS = "UpdateStamp { dock: right; width: auto; height: 1; }"

    def __init__(self, interval: float) -> None:
        super().__init__()
        self._interval = interval
        self._updated_at: datetime | None = None
        self._failed_at: datetime | None = None
        self._text = stamp_text(None, interval)
        self._shown: ShownText | None = None
        self.regions_refreshed: list[Region] | None = None  # last repaint; None = whole stamp

    def set_times(self, updated_at: datetime | None, failed_at: datetime | None) -> None:
        """The last successful collection, and the last failed try."""
        self._updated_at = updated_at
        self._failed_at = failed_at
        self._update()

    def set_interval(self, seconds: float) -> None:
        self._interval = seconds
        self._update()

    def _update(self) -> None:
        text = stamp_text(self._updated_at, self._interval, self._failed_at)
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
        self._totals: HeaderCounts | None = None  # None until a collection listed the fleet
        self._updated_at: datetime | None = None  # the last collection that listed the fleet
        self._failed_at: datetime | None = None  # the last try that listed nothing
        self._errors: tuple[str, ...] = ()
        self._status: SourceStatus | None = None
        self._shown: ShownText | None = None
        self.regions_refreshed: list[Region] | None = None  # last repaint; None = whole header
        self.stamp = UpdateStamp(interval)

    def compose(self) -> ComposeResult:
        yield self.stamp

    def on_mount(self) -> None:
        self._bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)
        self._update(whole=True)

    def _on_snapshot(self, message: SnapshotArrived) -> None:
        """A collection that listed the fleet gives the figures and the time; one that listed
        nothing only marks the try as failed (its zeros are unknown, not zero)."""
        snapshot = message.snapshot
        self._errors = snapshot.errors
        if snapshot.listed_nothing(self._source.listing_count):
            self._failed_at = snapshot.collected_at
        else:
            self._totals = header_counts(snapshot.workers, snapshot.cost())
            self._updated_at = snapshot.collected_at
        self.stamp.set_times(self._updated_at, self._failed_at)
        self._update()

    def failed_try(self, at: datetime) -> None:
        """A try that published nothing (the collection raised, the source could not open)."""
        self._failed_at = at
        self.stamp.set_times(self._updated_at, self._failed_at)

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
        wide = (self.size.width or 80) >= WIDE_HEADER
        if ctx.source:
            top.append(shown(f"  {ctx.source}", limit=120), "")
        elif len(ctx.accounts) > 1:  # every account by name, or how many on a narrow header
            top.append(shown(f"  {accounts_word(ctx.accounts, wide=wide)}", limit=200), "")
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
        right = stamp_text(self._updated_at, self._interval, self._failed_at)
        t = self._totals
        known = t is not None
        t = t or HeaderCounts()
        cost = t.cost
        bottom = Text(no_wrap=True, overflow="ellipsis")
        counts = [
            ("running", "run", cost.running, "bold green"),
            ("stopped", "stop", cost.stopped, "bold"),
            (_word(IdleState.IDLE), None, cost.idle, "bold yellow" if cost.idle else "bold"),
        ]
        for state in COUNTED_STATES:
            if state is not IdleState.SNOOZE or (wide and t.states.get(state)):
                counts.append((_word(state), None, t.states.get(state, 0), "bold"))
        for word, short, value, style in counts:
            bottom.append(f" {word if wide or short is None else short} ", "dim")
            bottom.append(str(value) if known else NONE, style)
            bottom.append(" " if wide else "")
        if wide:
            bottom.append(f"of {cost.workers if known else NONE} ", "dim")
        bottom.append("│", "dim")
        bottom.append(" burn " if wide else " ", "dim")
        burn = cost.burn_per_hour if known else None
        idle_burn = cost.idle_burn_per_hour if known else None
        bottom.append(f"{money(burn)}/h", "bold")
        bottom.append(f"  {_word(IdleState.IDLE)} ", "dim")
        bottom.append(f"{money(idle_burn)}/h", "bold yellow" if idle_burn else "")
        if cost.unpriced_running:
            # Never a silent guess: say how many running workers the money leaves out.
            bottom.append(f"  +{cost.unpriced_running}×{UNPRICED}", "bold #ff6b6b")
            if wide:
                bottom.append(" unpriced", "#ff6b6b")
        if t.stale:
            bottom.append(f"  {t.stale} stale!", "bold #ff6b6b")
        if self._errors:
            bottom.append(f"  {len(self._errors)} region error(s)!", "bold #ff6b6b")
        # The warnings above go first, the projections last: what a narrow line cuts is a
        # figure derived from the burn, never a warning.
        self._projections(bottom, cost if known else None, wide)
        return top, right, bottom

    @staticmethod
    def _projections(bottom: Text, cost: CostTotals | None, wide: bool) -> None:
        """The day and month at the current burn (`—` while no collection listed the fleet)."""
        day = cost.projected_day if cost is not None else None
        month = cost.projected_month if cost is not None else None
        bottom.append("  day " if wide else "  ", "dim")
        bottom.append(money_short(day) + ("" if wide else "/d"))
        bottom.append("  month " if wide else " ", "dim")
        bottom.append(money_short(month) + ("" if wide else "/mo"))


def _word(state: IdleState) -> str:
    """A state's word in the totals line (the domain's short word, in lower case)."""
    return idle_words(state).short.lower()
