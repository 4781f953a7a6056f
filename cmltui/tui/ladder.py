"""The refresh interval's steps: `+`/`-` walk a fixed ladder instead of doubling and halving."""

from __future__ import annotations

LADDER: tuple[float, ...] = (2, 5, 10, 15, 30, 60, 120, 300, 600)


def step(current: float, direction: int) -> float:
    """The next rung above (`direction` > 0) or below the current interval, kept on the ladder.

    An interval between rungs (from the config) moves to the nearest rung in that direction.
    """
    if direction > 0:
        return next((rung for rung in LADDER if rung > current), LADDER[-1])
    return next((rung for rung in reversed(LADDER) if rung < current), LADDER[0])
