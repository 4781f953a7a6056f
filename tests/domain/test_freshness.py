"""When a utilization point still says "now" (`cmltui.domain.freshness`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from cmltui.domain.freshness import cloudwatch_max_age, is_current


def test_the_rule():
    start = datetime(2026, 3, 2, 9, 0)
    now = start + timedelta(minutes=3)
    assert not is_current(start - timedelta(seconds=1), started_at=start, now=now)
    assert is_current(start, started_at=start, now=now)
    assert is_current(None, started_at=start, now=now)  # no stamp: cannot be judged
    old = now - cloudwatch_max_age(300) - timedelta(seconds=1)
    assert not is_current(old, started_at=None, now=now, max_age=cloudwatch_max_age(300))
    assert is_current(old, started_at=None, now=now)  # CML stats: bounded by the start only
