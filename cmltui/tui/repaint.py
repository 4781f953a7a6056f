"""Which cells of a text widget changed: repaint those, not the whole widget.

Over SSH every repainted cell costs bytes. A widget that renders `Text` keeps the lines it showed
last, and after building new ones refreshes only the span of each line that differs (a clock
ticking from 21:42:26 to 21:42:36 repaints two cells, not the line or the widget).

Most refreshes change nothing in most widgets, so a `ShownText` is compared whole first (its
characters and styles, a fraction of a microsecond); it is split into lines and cells only when
it differs (a 6-line panel costs about 100 µs to split).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.cells import get_character_cell_size
from rich.text import Text
from textual.geometry import Region

CellList = list[tuple[str, str]]


def text_cells(line: Text) -> CellList:
    """One (character, style) per terminal cell; a wide character's second cell is ("", style)."""
    plain = line.plain
    base = str(line.style) if line.style else ""
    styles = [base] * len(plain)
    for span in line.spans:
        style = str(span.style)
        for index in range(span.start, min(span.end, len(plain))):
            styles[index] = f"{styles[index]} {style}" if styles[index] else style
    cells: CellList = []
    for char, style in zip(plain, styles, strict=True):
        cells.append((char, style))
        if get_character_cell_size(char) == 2:
            cells.append(("", style))
    return cells


def changed_span(old: CellList, new: CellList) -> tuple[int, int] | None:
    """The smallest [start, end) cell span outside which both lines are the same, or None.

    A shorter line is padded with blanks by the widget, so the span reaches the longer end.
    """
    if old == new:
        return None
    shortest = min(len(old), len(new))
    start = 0
    while start < shortest and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    if end_old == end_new:
        while end_old > start and old[end_old - 1] == new[end_new - 1]:
            end_old -= 1
            end_new -= 1
    return start, max(end_old, end_new)


def changed_regions(
    old: Sequence[CellList] | None, new: Sequence[CellList], width: int
) -> list[Region] | None:
    """Regions (one per changed line) to refresh; None when everything must be repainted.

    Everything is repainted the first time and when the number of lines changes (the widget's
    height may change with it).
    """
    if old is None or len(old) != len(new):
        return None
    regions = []
    for y, (before, after) in enumerate(zip(old, new, strict=True)):
        span = changed_span(before, after)
        if span is not None:
            start, end = span
            end = min(end, width) if width else end
            if end > start:
                regions.append(Region(start, y, end - start, 1))
    return regions


def lines_of(text: Text) -> list[CellList]:
    """A multi-line `Text` as cell lists, one per line."""
    return [text_cells(line) for line in text.split("\n", allow_blank=True)]


@dataclass(eq=False)
class ShownText:
    """A text as it was last put on screen, with what is needed to compare the next one."""

    text: Text
    key: tuple[Any, ...] = field(init=False)
    height: int = field(init=False)
    _lines: list[CellList] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        text = self.text
        self.key = (text.plain, text.style, tuple(text.spans), text.justify, text.overflow)
        self.height = text.plain.count("\n") + 1

    @property
    def lines(self) -> list[CellList]:
        if self._lines is None:
            self._lines = lines_of(self.text)
        return self._lines


def changed_text_regions(old: ShownText | None, new: ShownText, width: int) -> list[Region] | None:
    """`changed_regions` of two texts, without splitting them when they are the same."""
    if old is not None and old.key == new.key:
        return []
    return changed_regions(old.lines if old is not None else None, new.lines, width)
