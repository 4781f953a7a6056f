"""Braille area plots: one metric per plot, so no line can hide another (btop's way).

A braille character is a 2×4 grid of dots, so a plot `rows` cells high has `4 × rows` levels
and each cell holds two samples side by side. Pure functions of the values: the detail screen
lays them out, tests check them directly.
"""

from __future__ import annotations

from collections.abc import Sequence

BRAILLE_BASE = 0x2800
# Dot bits, bottom row first, for the left and the right column of a cell.
_LEFT = (0x40, 0x04, 0x02, 0x01)
_RIGHT = (0x80, 0x20, 0x10, 0x08)


def level_dots(value: float | None, levels: int) -> int:
    """How many dots (of `levels`) a 0–100 value fills from the bottom; any value above 0
    shows at least one, so a quiet 1 % is not mistaken for a gap."""
    if value is None:
        return 0
    clamped = max(0.0, min(100.0, value))
    dots = round(clamped / 100.0 * levels)
    return max(dots, 1 if clamped > 0 else 0)


def area_plot(values: Sequence[float | None], width: int, rows: int) -> list[str]:
    """`rows` lines of `width` braille cells, the newest sample at the right.

    With no more samples than cells each sample fills a whole cell; with more, each cell holds
    two. Samples that do not fit are the oldest and are left out. A missing sample (None) is an
    empty column: a gap, never a zero.
    """
    if width <= 0 or rows <= 0:
        return []
    samples = list(values)[-2 * width :]
    if len(samples) <= width:
        pairs = [(value, value) for value in samples]
    else:
        if len(samples) % 2:
            samples = samples[1:]
        pairs = list(zip(samples[0::2], samples[1::2], strict=True))
    pairs = [(None, None)] * (width - len(pairs)) + pairs
    levels = 4 * rows
    heights = [(level_dots(left, levels), level_dots(right, levels)) for left, right in pairs]
    lines = []
    for row in range(rows):  # top row first
        floor = (rows - 1 - row) * 4  # dots below this row
        cells = []
        for left, right in heights:
            code = 0
            for dot in range(4):
                if left > floor + dot:
                    code |= _LEFT[dot]
                if right > floor + dot:
                    code |= _RIGHT[dot]
            cells.append(chr(BRAILLE_BASE + code))
        lines.append("".join(cells))
    return lines


def span_of(values: Sequence[float | None], width: int) -> int:
    """How many of the newest samples `area_plot` shows at `width` cells."""
    count = min(len(values), 2 * max(0, width))
    return count if count <= width else count - count % 2
