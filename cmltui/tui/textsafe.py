"""Outside text made harmless for the screen: control and bidi characters shown, not obeyed.

A stand-in until the shared sanitiser lands; the widgets of the detail screen, the copy menu and
the bulk dialog put every outside string through `visible` and into `rich.text.Text`.
"""

from __future__ import annotations

import unicodedata

MAX_LEN = 4000


def visible(value: object, limit: int = MAX_LEN) -> str:
    """`value` as text with C0/C1 controls and bidi overrides as `\\xNN`/`\\uNNNN`, bounded."""
    text = str(value)[:limit]
    out = []
    for char in text:
        if char == "\n" or char == "\t":
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category == "Cc" or (category == "Cf" and char not in "\u200d"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
