"""Outside text made harmless for the screen, keeping its line breaks (errors wrap in full).

Each line goes through the domain's `visible` (control and bidi characters shown, never
obeyed); `cmltui.tui.safe` does the same for one-line values. The detail screen, the copy
menu, the bulk dialog and the error panel put the result into `rich.text.Text`, never markup.
"""

from __future__ import annotations

from cmltui.domain.sanitize import visible as visible_line

MAX_LEN = 4000


def visible(value: object, limit: int = MAX_LEN) -> str:
    """`value` as bounded text with its controls made visible; newlines stay newlines."""
    text = str(value)
    cut = text[:limit]
    lines = [visible_line(line, limit) for line in cut.split("\n")]
    return "\n".join(lines) + ("…" if len(text) > limit else "")
