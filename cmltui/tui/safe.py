"""Outside text on screen: always plain `Text` (never markup), with controls made visible.

Textual parses markup in strings given to `notify`, `border_title`, `Static` and friends, and
Rich's `Text` keeps escape characters. Every string that comes from AWS, CML, the config or
the operator's filter reaches a widget through one of these helpers.
"""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size, set_cell_size
from rich.text import Text
from textual.widgets import Input

from cmltui.domain.sanitize import cell_text, visible

MAX_SHOWN = 1000
"""No single value needs more characters than this on any screen."""


def plain(value: object, style: str = "", *, limit: int = MAX_SHOWN) -> Text:
    """A plain `Text` of an outside value: never parsed as markup, controls made visible."""
    return Text(cell_text(str(value), limit), style=style, end="")


def shown(value: object, *, limit: int = MAX_SHOWN) -> str:
    """An outside value as a visible, capped string (to be appended to a `Text`)."""
    return cell_text(str(value), limit)


MAX_LINES_SHOWN = 4000


def shown_lines(value: object, *, indent: int, limit: int = MAX_LINES_SHOWN) -> str:
    """Like `shown`, but its line breaks stay line breaks (an error wraps in full on the
    detail screen), each following line indented by `indent`: outside text never starts a
    line where the screen's own rows and headings start ("How to fix it", "Detection   OFF").
    Every other control is made visible."""
    text = str(value)
    cut = text[:limit]
    lines = ("\n" + " " * indent).join(visible(line, limit) for line in cut.split("\n"))
    return lines + ("…" if len(text) > limit else "")


def made_visible(text: Text) -> Text:
    """`text` with controls made visible; styles stay (the mapping keeps every length)."""
    original = text.plain
    cleaned = visible(original)
    if cleaned == original:
        return text
    copy = text.copy()
    copy.plain = cleaned
    return copy


def fit_cells(value: object, width: int) -> str:
    """Visible text padded or cut to exactly `width` terminal cells (wide characters count 2)."""
    text = cell_text(str(value), max(width * 2, 1) + 1)
    if cell_len(text) > width:
        if not width:
            return ""
        # Whole characters up to width - 1 cells, then "…": a wide character that does not
        # fit leaves its blank after the "…", not before it.
        used = count = 0
        for char in text:
            size = get_character_cell_size(char)
            if used + size > width - 1:
                break
            used += size
            count += 1
        return set_cell_size(text[:count] + "…", width)
    return set_cell_size(text, width)


class PlainInput(Input):
    """An `Input` whose typed or pasted text has its control characters made visible.

    Every edit (keys, paste) goes through `replace`, so an escape sequence pasted into the
    filter box is shown as `␛…` and never reaches the terminal.
    """

    def replace(self, text: str, start: int, end: int) -> None:
        super().replace(visible(text), start, end)
