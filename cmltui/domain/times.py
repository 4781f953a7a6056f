"""Times from outside: the one parser and the one local-time formatter.

Every time cmltui did not make itself (EC2 tags and answers, CML, Cloud Manager, the audit log,
the price cache) is read by `parse_time`, and every time shown in the local zone is written by
`format_local`. Python's `datetime` raises `OverflowError`, not `ValueError`, for year 1 or 9999
with an offset and for a UTC time near either end of its range shown in a local zone; neither
function lets that, or anything else, escape.

A time is usable when it lies at least `MARGIN` inside `datetime`'s range in UTC: then every sum
cmltui makes with it (a timeout, a snooze, a settle time, a local zone's offset) is
representable too. Anything else is unknown for that field: None here, `?` on screen, and the
raw text in the worker's errors (`time_problem`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from cmltui.domain.sanitize import visible

UNKNOWN_TIME: Final = "?"
"""What a time that cannot be shown in the local zone reads as."""

MAX_TIME_CHARS: Final = 64
"""Longer text is not an ISO-8601 time: it is refused before any parsing."""

MARGIN: Final = timedelta(days=366)
EARLIEST: Final = datetime.min.replace(tzinfo=UTC) + MARGIN
LATEST: Final = datetime.max.replace(tzinfo=UTC) - MARGIN

FUTURE_SLACK: Final = timedelta(days=1)
"""Clocks drift, but activity more than this far ahead is a wrong clock or a forgery."""

_RAW_SHOWN = 64


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string or a datetime; None when not usable.

    Naive times are UTC (CML and EC2 both mean UTC). A trailing `Z` is accepted, also after an
    offset (Cloud Manager writes `+00:00Z`).
    """
    if isinstance(value, datetime):
        return _usable(value)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TIME_CHARS:
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1]
        if not _has_offset(text):
            text += "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _usable(parsed)


def not_ahead(value: datetime | None, now: datetime) -> datetime | None:
    """`value`, unless it is more than `FUTURE_SLACK` after `now`: then it is not believed.

    A future time would otherwise stand as last activity (or the last start) until that day
    came, keeping a worker from ever counting as idle.
    """
    if value is None or value - now > FUTURE_SLACK:
        return None
    return value


def time_problem(field: str, raw: object) -> str:
    """One line for a worker's errors: which field held what, shown safely and cut short."""
    shown = visible(raw if isinstance(raw, str) else repr(raw), _RAW_SHOWN)
    return f"{field}: not a usable time: {shown!r}"


def in_local_zone(value: datetime) -> datetime | None:
    """`value` in the local zone (TZ); None where that zone cannot represent it. Naive is UTC."""
    try:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone()
    except (OverflowError, ValueError, OSError):
        return None


def format_local(value: datetime, pattern: str) -> str:
    """`value` in the local zone written with a `strftime` pattern; `?` when it cannot be."""
    local = in_local_zone(value)
    if local is None:
        return UNKNOWN_TIME
    try:
        return local.strftime(pattern)
    except (ValueError, OverflowError):
        return UNKNOWN_TIME


def _usable(value: datetime) -> datetime | None:
    try:
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError, TypeError):
        return None
    return utc if EARLIEST <= utc <= LATEST else None


def _has_offset(text: str) -> bool:
    tail = text[-6:]
    return len(tail) == 6 and tail[0] in "+-" and tail[3] == ":"
