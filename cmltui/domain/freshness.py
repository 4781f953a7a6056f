"""When a utilization point still says "now" (README, "What is read how often").

A point measured before the worker's last start describes another run: after a pause and a
resume, a CloudWatch average from before the stop (CloudWatch's look-back reaches 15 minutes
back) or CML stats from before it must not stand for the worker's load while CML boots. A
CloudWatch point is stamped at the start of its period and is read again every CloudWatch
interval, so it stops telling "now" two of those intervals after its period ended. CML stats
have their own stale marker (`cml_stale_seconds`) and are bounded by the start only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

CLOUDWATCH_PERIOD_S: Final = 300
"""The period asked of CloudWatch: basic monitoring's 5 minutes."""


def cloudwatch_max_age(interval_s: float) -> timedelta:
    """How old (from its stamp) a CloudWatch point may be and still be shown as now."""
    return timedelta(seconds=2 * interval_s + CLOUDWATCH_PERIOD_S)


def is_current(
    measured_at: datetime | None,
    *,
    started_at: datetime | None,
    now: datetime,
    max_age: timedelta | None = None,
) -> bool:
    """Whether a point measured at `measured_at` may be shown as the worker's load now.

    A point with no time cannot be judged and is kept (the source gave no stamp).
    """
    if measured_at is None:
        return True
    if started_at is not None and measured_at < started_at:
        return False
    return max_age is None or now - measured_at <= max_age


def age_seconds(measured_at: datetime | None, now: datetime) -> int | None:
    return None if measured_at is None else max(0, int((now - measured_at).total_seconds()))
