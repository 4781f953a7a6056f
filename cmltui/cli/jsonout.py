"""The one JSON writer of the command line: `snapshot --format json` and `watch` lines."""

from __future__ import annotations

import json
from typing import Any


def strict_json(value: Any, *, indent: int | None = None) -> str:
    """Strict JSON (never `NaN` or `Infinity`); one line unless `indent` is given.

    Every number was made finite where it came in (prices inside their band, utilization
    clamped); `allow_nan=False` makes a slip fail loudly here instead of printing what no JSON
    reader accepts.
    """
    separators = None if indent is not None else (",", ":")
    return json.dumps(value, indent=indent, allow_nan=False, separators=separators)
