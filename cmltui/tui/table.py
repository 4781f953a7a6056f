"""The worker table: a Line API widget that repaints only the rows that changed.

A stock `DataTable` repaints its whole visible region on every cell update, which over SSH costs
kilobytes per refresh. Here each snapshot is diffed against what is on screen, for the visible
lines only: a line showing another worker is repainted whole, a line showing the same worker
only in the cells that changed. Rows off screen cost nothing until scrolled to (scrolling paints
them from the latest data). Cells are built lazily and cached per worker while its DTO stays the
same object. The cursor follows a worker id, not a row number, so it stays on the same worker
when rows re-sort or others are filtered out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click, Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cmltui.api.dto import CMLWorkerDto
from cmltui.config import ThresholdsConfig
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.sanitize import cell_text
from cmltui.domain.settle import EVENT_FIELDS
from cmltui.tui.bus import ActivityArrived, Bus, SnapshotArrived
from cmltui.tui.columns import (
    BY_KEY,
    COLUMNS,
    SEPARATOR,
    Cell,
    Column,
    RowState,
    cells,
    filter_problem,
    fit_columns,
    matches,
    next_sort,
    sort_ids,
)
from cmltui.tui.fleet_view import DETECTION, STATUS, FleetView
from cmltui.tui.fmt import local_time
from cmltui.tui.safe import plain

CURSOR_MARK = ">"
MARK = "*"
LEAD = 2  # the cursor and mark cells before the first column
NAME_TAIL = 3
CELL_GAP = 4
"""Changed cells closer than this many columns are repainted as one span (a cursor move costs
about as many bytes)."""
ROW_EVENTS = frozenset(
    kind for kind, fields in EVENT_FIELDS.items() if {f.field for f in fields} & {STATUS, DETECTION}
)
"""Activity events that change what a row shows (its in-flight marker or its idle state)."""


class LineKey(NamedTuple):
    """What a screen line shows: equal keys paint equal lines."""

    worker_id: str
    cells: tuple[Cell, ...]
    on_cursor: bool
    status: WorkerStatus
    marked: bool
    tail: bool


_UNPAINTED = object()


@lru_cache(maxsize=256)
def _style(spec: str) -> Style:
    return Style.parse(spec) if spec else Style()


class WorkerTable(ScrollView, can_focus=True):
    """Workers keyed by instance id; sorted, filtered, updated in place."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
    ]
    COMPONENT_CLASSES = {
        "worker-table--header",
        "worker-table--cursor",
        "worker-table--inactive",
    }
    DEFAULT_CSS = """
    WorkerTable {
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 0;
    }
    WorkerTable > .worker-table--header { text-style: bold; color: $text-accent; }
    WorkerTable > .worker-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: bold;
    }
    WorkerTable:focus > .worker-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    WorkerTable > .worker-table--inactive { color: $text-disabled; }
    """

    class SortChanged(Message):
        """The sort column or direction changed (by key or by a click on a column title)."""

        def __init__(self, key: str, descending: bool, *, hidden: bool = False) -> None:
            super().__init__()
            self.key = key
            self.title = BY_KEY[key].title  # the column's header: the sort's one name
            self.descending = descending
            self.hidden = hidden  # the width does not show that column

    class CursorMoved(Message):
        """The cursor is on another worker (or on none)."""

        def __init__(self, worker_id: str | None) -> None:
            super().__init__()
            self.worker_id = worker_id

    def __init__(
        self,
        bus: Bus,
        view: FleetView,
        thresholds: ThresholdsConfig,
        *,
        columns: Sequence[Column] = COLUMNS,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._available = tuple(columns)  # `columns.columns_for` the fleet's accounts
        self._bus = bus
        self._view = view
        self._thresholds = thresholds
        self._dtos: Mapping[str, CMLWorkerDto] = {}
        self._order: list[str] = []
        self._columns: list[tuple[Column, int]] = []
        self._spans: list[tuple[int, int]] = []  # (x, width) of each column on a line
        self._cells: dict[str, tuple[CMLWorkerDto, RowState | None, tuple[Cell, ...]]] = {}
        self._strips: dict[str, tuple[tuple[object, ...], Strip]] = {}
        self._painted: dict[int, object] = {}  # screen line -> the LineKey render_line painted
        self._have_data = False
        self.cursor_id: str | None = None
        self.sort_key = "name"  # a `columns.COLUMNS` key
        self.sort_reversed = False
        self.marked: set[str] = set()
        self._keep_tail = False  # names cut at the end would look alike: keep their tails
        self._tail_basis = (-1, -1)
        self.filter_text = ""
        self.stale_since: datetime | None = None  # the source stopped flowing after this data
        self._title = ""
        self.lines_refreshed = 0  # rows repainted by the last update (for tests and benchmarks)
        self.regions_refreshed: list[Region] = []  # what the last diff repainted (for tests)

    # --- channels ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)
        self._bus.activity.subscribe(self, self._on_activity, immediate=True)

    def _on_snapshot(self, _message: SnapshotArrived) -> None:
        self._dtos = self._view.by_id
        if len(self._cells) > 2 * len(self._dtos) + 64:  # workers gone for good
            self._cells = {k: v for k, v in self._cells.items() if k in self._dtos}
            self._strips = {k: v for k, v in self._strips.items() if k in self._dtos}
        self._have_data = True
        self._rebuild()

    def _on_activity(self, message: ActivityArrived) -> None:
        if message.event.type in ROW_EVENTS:  # the view-model holds it already
            self._rebuild()

    # --- public API -------------------------------------------------------------------------

    @property
    def order(self) -> list[str]:
        """Worker ids as displayed (sorted and filtered)."""
        return list(self._order)

    @property
    def sort_descending(self) -> bool:
        return BY_KEY[self.sort_key].descending_first != self.sort_reversed

    @property
    def shown_keys(self) -> list[str]:
        """The columns this width shows, left to right."""
        return [column.key for column, _ in self._columns]

    @property
    def sort_hidden(self) -> bool:
        """The rows are sorted by a column this width does not show."""
        return self.sort_key not in self.shown_keys

    def row_text(self, worker_id: str) -> str:
        """The plain text of a worker's row (what the screen shows, without colours or the
        cursor and mark cells, which stay blank so that `column_span` indexes it)."""
        row = self._row_cells(worker_id)
        return " " * LEAD + " ".join(
            self._fit(cell.text, width, column.align, self._tail(column))
            for (column, width), cell in zip(self._columns, row, strict=False)
        )

    def column_span(self, key: str) -> tuple[int, int] | None:
        """Where a column sits on a line: (x, width) in content cells, or None if not shown."""
        for (column, _), span in zip(self._columns, self._spans, strict=True):
            if column.key == key:
                return span
        return None

    def cycle_sort(self) -> str:
        """The next column shown, left to right, in its natural direction."""
        self.sort_key = next_sort(self.sort_key, self.shown_keys)
        self.sort_reversed = False
        self._sorted()
        return self.sort_key

    def reverse_sort(self) -> None:
        self.sort_reversed = not self.sort_reversed
        self._sorted()

    def sort_by(self, key: str) -> None:
        """Sort by a column; the column already sorted by is reversed (a title click)."""
        if key == self.sort_key:
            self.reverse_sort()
            return
        self.sort_key = key
        self.sort_reversed = False
        self._sorted()

    def _sorted(self) -> None:
        self._rebuild(full=True)
        self.post_message(
            self.SortChanged(self.sort_key, self.sort_descending, hidden=self.sort_hidden)
        )

    def toggle_mark(self) -> bool:
        """Mark or unmark the worker under the cursor; True when it is now marked."""
        worker_id = self.cursor_id
        if worker_id is None:
            return False
        if worker_id in self.marked:
            self.marked.discard(worker_id)
        else:
            self.marked.add(worker_id)
        self._refresh_row(self._cursor_index())
        self._update_title()
        return worker_id in self.marked

    def clear_marks(self) -> None:
        if self.marked:
            self.marked.clear()
            self._rebuild(full=True)

    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self._rebuild(full=True)

    def move_to(self, worker_id: str) -> None:
        if worker_id in self._order:
            self._set_cursor(self._order.index(worker_id))

    # --- cursor -----------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self._cursor_index() + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self._cursor_index() + direction * max(1, self._visible_rows() - 1))

    def action_cursor_to(self, index: int) -> None:
        self._set_cursor(index if index >= 0 else len(self._order) - 1)

    def on_click(self, event: Click) -> None:
        """A title sorts by its column; a row selects that row (the border is not a row)."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            for (column, _), (x, width) in zip(self._columns, self._spans, strict=True):
                if x <= offset.x < x + width + SEPARATOR:
                    self.sort_by(column.key)
                    return
            return
        self._set_cursor(int(self.scroll_offset.y) + offset.y - 1)

    def _cursor_index(self) -> int:
        if self.cursor_id in self._order:
            return self._order.index(self.cursor_id)
        return 0

    def _set_cursor(self, index: int) -> None:
        if not self._order:
            return
        index = max(0, min(len(self._order) - 1, index))
        old = self._cursor_index()
        new_id = self._order[index]
        if new_id == self.cursor_id:
            return
        self.cursor_id = new_id
        self._refresh_row(old)
        self._refresh_row(index)
        self._scroll_to_cursor()
        self.post_message(self.CursorMoved(new_id))

    def _scroll_to_cursor(self) -> None:
        index = self._cursor_index()
        top = int(self.scroll_offset.y)
        rows = self._visible_rows()
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + rows:
            self.scroll_to(y=index - rows + 1, animate=False)

    def _visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    # --- building and diffing ---------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._rebuild(full=True)

    def _rebuild(self, *, full: bool = False) -> None:
        if self._fit_to_width():
            full = True
        needle = self.filter_text
        visible = (
            [d for d in self._dtos.values() if matches(d, needle)]
            if needle
            else list(self._dtos.values())
        )
        old_cursor = self._cursor_index()
        self._order = sort_ids(visible, self.sort_key, reverse=self.sort_reversed)
        self.marked &= self._dtos.keys()
        if self._tail_basis != self._tail_key():
            self._keep_tail = self._names_need_tails()
        cursor_changed = False
        if self.cursor_id not in self._order:
            new_id = self._order[min(old_cursor, len(self._order) - 1)] if self._order else None
            cursor_changed = new_id != self.cursor_id
            self.cursor_id = new_id
        height = len(self._order) + 1
        if self.virtual_size.height != height or full:
            self.virtual_size = Size(self.scrollable_content_region.width, height)
            self.refresh()
            self.lines_refreshed = min(len(self._order), self._visible_rows())
            self.regions_refreshed = []
        else:
            self._refresh_changed_lines()
        self._update_title()
        if cursor_changed:
            self._scroll_to_cursor()
            self.post_message(self.CursorMoved(self.cursor_id))
        elif self.cursor_id is not None:
            self._scroll_to_cursor()

    def _refresh_changed_lines(self) -> None:
        """Compare each visible line with what was painted there; repaint only differences."""
        top = int(self.scroll_offset.y)
        refreshed: list[Region] = []
        lines = 0
        for y in range(1, self._visible_rows() + 1):
            key = self._line_key(top + y - 1)
            painted = self._painted.get(y, _UNPAINTED)
            if key == painted:
                continue
            lines += 1
            refreshed.extend(self._changed_regions(y, painted, key))
        if refreshed:
            self.refresh(*refreshed)
        self.lines_refreshed = lines
        self.regions_refreshed = refreshed

    def _tail_key(self) -> tuple[int, int]:
        return (id(self._dtos), next((w for c, w in self._columns if c.flex), 0))

    def _names_need_tails(self) -> bool:
        """Names are cut at the end unless that would make two of them look the same."""
        self._tail_basis = self._tail_key()
        width = next((w for c, w in self._columns if c.flex), 0)
        names = [cell_text(d.name) for d in self._dtos.values()]  # as the cells show them
        long = [name for name in names if cell_len(name) > width]
        if not long or width <= NAME_TAIL + 4:
            return False
        cut = {set_cell_size(name, width - 1) for name in long}
        return len(cut) < len(long) or bool(cut & set(names))

    def _changed_regions(self, y: int, painted: object, key: LineKey | None) -> list[Region]:
        """The same worker in the same state: only its changed cells; else the whole line."""
        width = self.size.width
        if (
            not isinstance(painted, LineKey)
            or key is None
            or painted[0] != key[0]
            or painted[2:] != key[2:]
            or len(painted.cells) != len(key.cells)
        ):
            return [Region(0, y, width, 1)]
        regions: list[Region] = []
        start = end = -1
        pairs = zip(self._spans, painted.cells, key.cells, strict=True)
        for (x, cell_width), before, after in pairs:
            if before == after:
                continue
            if start >= 0 and x - end <= CELL_GAP:
                end = x + cell_width
                continue
            if start >= 0:
                regions.append(Region(start, y, end - start, 1))
            start, end = x, x + cell_width
        if start >= 0:
            regions.append(Region(start, y, end - start, 1))
        return regions

    def _line_key(self, index: int) -> LineKey | None:
        if index >= len(self._order):
            return None
        worker_id = self._order[index]
        return LineKey(
            worker_id,
            self._row_cells(worker_id),
            worker_id == self.cursor_id,
            self._dtos[worker_id].status,
            worker_id in self.marked,
            self._keep_tail,
        )

    def _fit_to_width(self) -> bool:
        """Choose the columns for the current width (it changes when the scrollbar appears)."""
        columns = fit_columns(max(10, self.scrollable_content_region.width - LEAD), self._available)
        if columns == self._columns:
            return False
        self._columns = columns
        spans, x = [], LEAD
        for _, width in columns:
            spans.append((x, width))
            x += width + SEPARATOR
        self._spans = spans
        self._keep_tail = self._names_need_tails()
        self._cells.clear()
        self._strips.clear()
        self._painted.clear()
        return True

    def set_stale(self, since: datetime | None) -> None:
        """Mark the rows as the last data of a source that is not flowing (None: it flows)."""
        if since != self.stale_since:
            self.stale_since = since
            self.set_class(since is not None, "-stale")
            self._update_title()

    def _update_title(self) -> None:
        parts = [f"Workers {len(self._order)}/{len(self._dtos)}"]
        if self.marked:
            parts.append(f"{len(self.marked)} marked")
        sort = f"sort {BY_KEY[self.sort_key].title}{'▼' if self.sort_descending else '▲'}"
        parts.append(sort + (" (column hidden)" if self.sort_hidden else ""))
        if self.filter_text:
            parts.append(f"filter “{self.filter_text}”")
            problem = filter_problem(self.filter_text)
            if problem:
                parts.append(problem)
        if self.stale_since is not None:
            parts.append(f"STALE: last data {local_time(self.stale_since, seconds=True)}")
        title = " · ".join(parts)
        if self._title != title:
            # The filter is typed by the operator: plain text, never markup.
            self._title = title
            self.border_title = plain(title, limit=200)

    def _row_cells(self, worker_id: str) -> tuple[Cell, ...]:
        """The shown columns' cells, built once per DTO (snapshots bring new DTO objects)."""
        dto = self._dtos[worker_id]
        view = self._view
        shown = (  # a pause, resume or toggle the snapshot has not listed yet
            RowState(view.status_word(worker_id), view.idle_state(worker_id))
            if view.held(worker_id)
            else None
        )
        cached = self._cells.get(worker_id)
        if cached is not None and cached[0] is dto and cached[1] == shown:
            return cached[2]
        all_cells = cells(dto, self._thresholds, shown)
        row = tuple(all_cells[column.key] for column, _ in self._columns)
        self._cells[worker_id] = (dto, shown, row)
        return row

    def _refresh_row(self, index: int) -> None:
        y = index + 1 - int(self.scroll_offset.y)
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    # --- painting ---------------------------------------------------------------------------

    def _tail(self, column: Column) -> int:
        return NAME_TAIL if column.flex and self._keep_tail else 0

    @staticmethod
    def _fit(text: str, width: int, align: str, keep_tail: int = 0) -> str:
        """Pad or cut to `width` at the end, or keep `keep_tail` cells of the end (a name's
        number) when cutting at the end would make names look alike.

        Every cell passes here, so outside text (names, tags, the filter) is made visible here.
        """
        if len(text) > _FIT_MAX:  # a 5,000-character name: keep its head and its tail
            text = text[: _FIT_MAX - 16] + text[-16:]
        text = cell_text(text)
        if cell_len(text) > width:
            tail = text[-keep_tail:] if keep_tail else ""
            if tail and width > 2 * keep_tail + 4:  # wide characters take two cells each
                head = set_cell_size(text, width - cell_len(tail) - 1)
                return head + "…" + tail
            return set_cell_size(text, width - 1) + "…"
        pad = " " * (width - cell_len(text))
        return pad + text if align == "right" else text + pad

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0 and self._fit_to_width():
            self.refresh()
        if y == 0:
            return self._header_strip(width, base)
        index = int(self.scroll_offset.y) + y - 1
        key = self._line_key(index)
        self._painted[y] = key
        if key is None:
            if index == 0:
                problem = filter_problem(self.filter_text) if self.filter_text else None
                note = (
                    f"  {problem}"
                    if problem
                    else f"  no worker matches “{self.filter_text}”"
                    if self._have_data and self.filter_text
                    else "  no workers found"
                    if self._have_data
                    else "  waiting for the first collection…"
                )
                return Strip([Segment(self._fit(note, width, "left"), base + Style(dim=True))])
            return Strip.blank(width, base)
        return self._row_strip(key, width, base)

    def _header_strip(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("worker-table--header")
        descending = self.sort_descending
        titles = []
        for column, col_width in self._columns:
            title = column.title
            if column.key == self.sort_key:
                title += "▼" if descending else "▲"
            titles.append(self._fit(title, col_width, column.align))
        text = " " * LEAD + (" " * SEPARATOR).join(titles)
        return Strip([Segment(self._fit(text, width, "left"), style)])

    def _row_strip(self, key: LineKey, width: int, base: Style) -> Strip:
        """One row, as few segments as its styles allow (each segment costs an SGR sequence)."""
        worker_id, row, on_cursor, status, marked, _tail = key
        row_style = base
        if status in (WorkerStatus.TERMINATED, WorkerStatus.SHUTTING_DOWN):
            row_style = row_style + self.get_component_rich_style("worker-table--inactive")
        if on_cursor:
            row_style = row_style + self.get_component_rich_style("worker-table--cursor")
        cached = self._strips.get(worker_id)
        cache_key = (key, width, row_style)
        if cached is not None and cached[0] == cache_key:
            return cached[1]
        # Terminated rows are greyed; on the cursor row the cursor style alone stays readable.
        plain = status is WorkerStatus.TERMINATED or on_cursor
        texts: list[str] = [(CURSOR_MARK if on_cursor else " ") + (MARK if marked else " ")]
        styles: list[Style] = [row_style]
        for i, ((column, col_width), cell) in enumerate(zip(self._columns, row, strict=False)):
            cell_style = row_style if plain else row_style + _style(cell.style)
            text = self._fit(cell.text, col_width, column.align, self._tail(column))
            if i:
                # The separator joins whichever neighbour draws nothing on a blank cell.
                if _blank_safe(styles[-1], row_style):
                    texts[-1] += " " * SEPARATOR
                elif _blank_safe(cell_style, row_style):
                    text = " " * SEPARATOR + text
                else:
                    texts.append(" " * SEPARATOR)
                    styles.append(row_style)
            if cell_style == styles[-1]:
                texts[-1] += text
            else:
                texts.append(text)
                styles.append(cell_style)
        used = sum(cell_len(text) for text in texts)
        if used < width:
            if _blank_safe(styles[-1], row_style):
                texts[-1] += " " * (width - used)
            else:
                texts.append(" " * (width - used))
                styles.append(row_style)
        strip = Strip([Segment(t, s) for t, s in zip(texts, styles, strict=True)]).crop(0, width)
        self._strips[worker_id] = (cache_key, strip)
        return strip


_FIT_MAX = 256


@lru_cache(maxsize=256)
def _blank_safe(style: Style, row_style: Style) -> bool:
    """True when blank cells in `style` look like blank cells in `row_style`."""
    return style.bgcolor == row_style.bgcolor and not (
        style.strike
        or style.underline
        or style.underline2
        or style.overline
        or style.reverse
        or style.blink
        or style.blink2
        or style.conceal
    )
