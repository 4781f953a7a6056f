"""The collection interval: its bounds, the steps `+`/`-` move along, and its one holder."""

from __future__ import annotations

from typing import Final

MIN_INTERVAL: Final = 2.0
MAX_INTERVAL: Final = 600.0
LADDER: Final = (2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
"""Round steps an operator can always get back from (halving 600 s never reaches 10 s)."""


def clamp_interval(seconds: float) -> float:
    return min(MAX_INTERVAL, max(MIN_INTERVAL, float(seconds)))


def step_interval(current: float, direction: int) -> float:
    """The next rung up (`direction` > 0) or down from `current`, which may sit between rungs."""
    if direction > 0:
        return next((rung for rung in LADDER if rung > current), LADDER[-1])
    return next((rung for rung in reversed(LADDER) if rung < current), LADDER[0])


class Cadence:
    """The collection interval, held once and shared by the service and the collector."""

    def __init__(self, seconds: float) -> None:
        self._seconds = clamp_interval(seconds)

    @property
    def seconds(self) -> float:
        return self._seconds

    def set(self, seconds: float) -> float:
        """Clamp to the bounds and keep; returns the value in effect."""
        self._seconds = clamp_interval(seconds)
        return self._seconds
