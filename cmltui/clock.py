"""One injectable clock shared by the simulator, collector, mapper and idle policy.

Everything in the core asks a `Clock` for the time instead of calling `datetime.now()`, so that
tests and the deterministic demo can fix or step time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of the current time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until told to move: fixed for snapshot tests, stepped for sims."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move forward by `seconds` (plus any timedelta keywords) and return the new time."""
        with self._lock:
            self._now = self._now + timedelta(seconds=seconds, **delta)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = ensure_utc(when)


class OffsetClock:
    """The wall clock shifted to start at a chosen instant: the live demo runs on this.

    Time flows at real speed (times `speed`) from `start`, so a seeded fleet looks the same at
    start-up whatever the day, yet still moves.
    """

    def __init__(self, start: datetime, speed: float = 1.0, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._origin = self._base.now()
        self._start = ensure_utc(start)
        self._speed = speed

    def now(self) -> datetime:
        return self._start + (self._base.now() - self._origin) * self._speed


def ensure_utc(value: datetime) -> datetime:
    """Naive datetimes are UTC (CML and EC2 both mean UTC); aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
