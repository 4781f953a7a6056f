"""Outside text made harmless, and plain, secret-free JSON values.

`visible` is the one function every string from AWS, CML, the config or the operator passes
through before it is shown (TUI, `snapshot --format table`, toasts, logs on screen). It maps
each control, bidi, zero-width or line-breaking character to one visible character, so the text
keeps its length (styled spans stay valid) and nothing reaches the terminal's control stream.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from cmltui.domain.secrets import cut_secrets, is_secret_key, scrub_text

ELLIPSIS = "…"
REPLACEMENT = "\ufffd"  # "�": bidi, zero-width, C1 and other invisible format characters
MAX_ERROR_CHARS = 200


class _VisibleTable(dict[int, str]):
    """`str.translate` table: fixed entries for C0, DEL, C1 and surrogates, the rest on demand.

    Unicode categories are looked up once per distinct character met, so import stays cheap.
    """

    def __missing__(self, code: int) -> str:
        category = unicodedata.category(chr(code))
        if category == "Cf":  # bidi controls, zero-width, BOM, tag characters
            shown = REPLACEMENT
        elif category in ("Zl", "Zp"):  # U+2028/U+2029 break lines in some terminals
            shown = "\u2424"  # ␤
        else:
            shown = chr(code)
        if len(self) < _TABLE_MAX:
            self[code] = shown
        return shown


_TABLE_MAX = 50_000
_TABLE = _VisibleTable({code: chr(0x2400 + code) for code in range(0x20)})  # ␀…␟
_TABLE[0x09] = " "  # a tab would move the cursor: one space keeps the columns
_TABLE[0x7F] = "\u2421"  # ␡
_TABLE.update({code: REPLACEMENT for code in range(0x80, 0xA0)})  # C1: CSI 0x9b, OSC 0x9d…
_TABLE.update({code: REPLACEMENT for code in range(0xD800, 0xE000)})  # lone surrogates


def visible(text: str, limit: int | None = None) -> str:
    """`text` with every control, bidi and invisible character shown as one visible character.

    Newlines never start a new line (shown as ␊), tabs become a space, ESC becomes ␛. With
    `limit`, longer text is cut to `limit` characters ending in "…".
    """
    if not isinstance(text, str):
        text = str(text)
    if not text.isprintable():  # fast path: plain text (C-speed check) is returned as it is
        text = text.translate(_TABLE)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + ELLIPSIS
    return text


MAX_COMBINING = 2
"""Combining marks kept after one base character: enough for any script's real text; terminals
and Rich part ways on long runs (tmux keeps ten, some terminals start new cells)."""

# Measured differently by Rich and by terminals (the C library's wcwidth, as tmux does), and
# invisible or decorative anyway: variation selectors (VS16 makes ❤ two cells wide in Rich, one
# in tmux), emoji skin tones (a cell pair of their own in tmux) and the Hangul fillers (no cell
# in Rich, two in tmux).
_UNEVEN = re.compile(
    "[\ufe00-\ufe0f\U000e0100-\U000e01ef\U0001f3fb-\U0001f3ff\u115f\u1160\u3164\uffa0]"
)
_INVISIBLE_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cc", "Cs", "Zs", "Zl", "Zp"})


def even_width(text: str) -> str:
    """`text` measured alike by Rich and by the terminal: variation selectors, skin tones and
    Hangul fillers dropped, combining runs cut to `MAX_COMBINING` marks, and spacing marks
    (Devanagari's vowel signs, say: no cell for Rich, one for wcwidth) dropped. The full text
    stays in the detail screen, the JSON and the clipboard.

    Every cell fit asks this (through `cell_text`), so a row's columns line up whatever a
    name holds. Plain ASCII returns at once; the rest is cached (names repeat every repaint).
    """
    return text if text.isascii() else _even_width(text)


@lru_cache(maxsize=4096)
def _even_width(text: str) -> str:
    text = _UNEVEN.sub("", text)
    kept = []
    run = 0
    for char in text:
        category = unicodedata.category(char)
        if category == "Mc":
            continue
        if category in ("Mn", "Me"):
            run += 1
            if run > MAX_COMBINING:
                continue
        else:
            run = 0
        kept.append(char)
    return "".join(kept)


def cell_text(text: str, limit: int | None = None) -> str:
    """Outside text for terminal cells: visible (`visible`) and of even width (`even_width`)."""
    return even_width(visible(text, limit))


def has_visible(text: str) -> bool:
    """Whether `text` shows anything: not only spaces, controls, format characters, combining
    marks, variation selectors or fillers (a name of U+3164 alone would show blank)."""
    if text.isascii() and text.isprintable():  # most names: C-speed checks only
        return bool(text) and not text.isspace()
    return any(unicodedata.category(c) not in _INVISIBLE_CATEGORIES for c in _UNEVEN.sub("", text))


def error_text(text: str, limit: int = MAX_ERROR_CHARS, secrets: Iterable[str] = ()) -> str:
    """An error message fit for one line on screen: `secrets` (what cmltui is sending) cut
    out first, other secrets masked, visible, capped."""
    return visible(" ".join(scrub_text(cut_secrets(str(text), secrets)).split()), limit)


def public_json(value: Any) -> Any:
    """A copy without secret-named keys at any depth, with only plain JSON values in it.

    The Smart Licensing token never leaves the core; NaN or ±inf become None so JSON stays valid.
    """
    if isinstance(value, Mapping):
        return {str(k): public_json(v) for k, v in value.items() if not is_secret_key(str(k))}
    if isinstance(value, list | tuple):
        return [public_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def finite_number(value: Any) -> float | None:
    """A finite real number as a float; None, strings, booleans, NaN and ±inf become None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range is not a usable number
        return None
    return number if math.isfinite(number) else None


def finite_percent(value: Any) -> float | None:
    """A float clamped to [0, 100]; anything that is not a finite real number becomes None."""
    number = finite_number(value)
    return None if number is None else min(100.0, max(0.0, number))


def finite_count(value: Any) -> int:
    """A count from outside: a non-negative int; anything that is not a finite number is 0."""
    number = finite_number(value)
    return max(0, int(number)) if number is not None else 0
