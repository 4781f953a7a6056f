"""Plain, secret-free JSON values: what may leave the core from CML's nested objects."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

SECRET_KEY_PARTS = ("token", "password", "secret")


def public_json(value: Any) -> Any:
    """A copy without token-like keys at any depth, with only plain JSON values in it.

    The Smart Licensing token never leaves the core; NaN or ±inf become None so JSON stays valid.
    """
    if isinstance(value, Mapping):
        return {
            str(k): public_json(v)
            for k, v in value.items()
            if not any(part in str(k).lower() for part in SECRET_KEY_PARTS)
        }
    if isinstance(value, list | tuple):
        return [public_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_line(text: str, limit: int = 500) -> str:
    """Outside text made safe for one line of a terminal: control and bidi characters are
    shown as escapes (never sent), and the length is bounded."""
    out = []
    for char in text[:limit]:
        code = ord(char)
        if char == "\t":
            out.append(" ")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or char in _BIDI:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out) + ("…" if len(text) > limit else "")
