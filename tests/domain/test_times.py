"""The one parser and the one local-time formatter of outside times, over the whole calendar.

`datetime` raises OverflowError (not ValueError) for year 1 or 9999 with an offset, and when a
UTC time near either end is shown in a local zone. These properties run every `datetime` and
every UTC offset (whole minutes, -24 h to +24 h exclusive) through both functions, under several
`TZ` values, and check that nothing escapes and that what comes back is right.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cmltui.domain.times import (
    EARLIEST,
    FUTURE_SLACK,
    LATEST,
    UNKNOWN_TIME,
    format_local,
    in_local_zone,
    not_ahead,
    parse_time,
    time_problem,
)
from cmltui.tui.fmt import local_time

ZONES = (
    "UTC",
    "Asia/Tokyo",
    "America/New_York",
    "Pacific/Kiritimati",  # +14:00, the earliest zone
    "Pacific/Pago_Pago",  # -11:00
    "Asia/Kathmandu",  # +05:45
)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
naive = st.datetimes(min_value=datetime.min, max_value=datetime.max)


def at_the_edges(test):
    """Always try both ends of the calendar with the widest offsets, whatever Hypothesis draws."""
    for value in (
        datetime.min,
        datetime.max,
        EARLIEST.replace(tzinfo=None),
        LATEST.replace(tzinfo=None),
    ):
        for minutes in (0, 1, -1, 60, -60, 24 * 60 - 1, -(24 * 60 - 1)):
            test = example(value, timezone(timedelta(minutes=minutes)))(test)
    return test


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Run with `TZ` set to `name` (time.tzset), and put the old zone back afterwards."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def instant_in_window(value: datetime, offset: timezone) -> bool:
    """Whether `value` at `offset` lies in [EARLIEST, LATEST] in UTC, worked out in timedelta
    arithmetic (which has room for it) rather than datetime arithmetic (which overflows)."""
    since_min = value - datetime.min - offset.utcoffset(None)
    low = EARLIEST.replace(tzinfo=None) - datetime.min
    high = LATEST.replace(tzinfo=None) - datetime.min
    return low <= since_min <= high


@pytest.mark.parametrize("zone", ZONES)
@settings(max_examples=150, deadline=None)
@given(naive, offsets)
@at_the_edges
def test_parser_never_raises_and_keeps_the_instant(zone, value, offset):
    aware = value.replace(tzinfo=offset)
    usable = instant_in_window(value, offset)
    for given_as in (aware, aware.isoformat(), aware.isoformat() + "Z"):
        with local_zone(zone):  # the local zone never changes what a time means
            parsed = parse_time(given_as)
        if not usable:
            assert parsed is None, given_as
            continue
        assert parsed is not None, given_as
        assert parsed.tzinfo is UTC
        assert parsed == aware  # the same instant
        assert EARLIEST <= parsed <= LATEST
        # whatever cmltui adds to a usable time (timeouts, snooze, settle) still fits
        assert parsed + timedelta(days=30) > parsed - timedelta(days=30)


@pytest.mark.parametrize("zone", ZONES)
@settings(max_examples=100, deadline=None)
@given(naive)
def test_naive_times_are_utc(zone, value):
    with local_zone(zone):
        parsed = parse_time(value.isoformat())
    if instant_in_window(value, UTC):
        assert parsed == value.replace(tzinfo=UTC)
    else:
        assert parsed is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=20), st.integers(), st.none()))
def test_anything_else_is_unknown_not_an_error(value):
    parsed = parse_time(value)
    assert parsed is None or (parsed.tzinfo is UTC and EARLIEST <= parsed <= LATEST)


@pytest.mark.parametrize(
    "payload",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:00:00Z",  # valid in UTC, but no room for a timeout or a local zone
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59+00:00Z",
    ],
)
def test_the_reported_payloads_are_unknown(payload):
    assert parse_time(payload) is None
    line = time_problem("cmltui:last-paused-at", payload)
    assert payload in line and line.startswith("cmltui:last-paused-at: ")


def test_a_problem_line_shows_hostile_text_as_data_and_short():
    line = time_problem("timestamp", "\x1b]0;pwned\x07" + "9" * 500)
    assert "\x1b" not in line and "\x07" not in line and len(line) < 120


@pytest.mark.parametrize("zone", ZONES)
@settings(max_examples=150, deadline=None)
@given(naive, offsets)
@at_the_edges
def test_formatter_never_raises_in_any_zone(zone, value, offset):
    aware = value.replace(tzinfo=offset)
    with local_zone(zone):
        shown = local_time(aware, now=NOW)
        plain = format_local(aware, "%Y-%m-%d %H:%M")
        for fixed in (aware, value):  # a naive time is UTC
            assert isinstance(local_time(fixed, seconds=True), str)
    assert shown == UNKNOWN_TIME or re.fullmatch(r"([A-Z][a-z]{2} \d{2} )?\d{2}:\d{2}", shown)
    assert plain == UNKNOWN_TIME or re.fullmatch(r"\d{1,4}-\d{2}-\d{2} \d{2}:\d{2}", plain)
    if instant_in_window(value, offset):
        # Every time the parser accepts can be shown in every zone.
        assert shown != UNKNOWN_TIME and plain != UNKNOWN_TIME


@pytest.mark.parametrize(
    ("zone", "value"),
    [
        ("Asia/Tokyo", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("America/New_York", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_the_reported_display_crashes_read_as_unknown(zone, value):
    with local_zone(zone):
        assert in_local_zone(value) is None
        assert local_time(value, now=NOW) == UNKNOWN_TIME
        assert local_time(NOW, now=value) != UNKNOWN_TIME  # an odd "now" still shows the time
        assert format_local(value, "%Y-%m-%d %H:%M:%S %Z") == UNKNOWN_TIME


def test_times_show_in_the_local_zone_with_the_date_when_not_today():
    with local_zone("Asia/Tokyo"):
        assert local_time(NOW, now=NOW) == "18:00"
        assert local_time(NOW - timedelta(days=2), now=NOW) == "Feb 28 18:00"


def test_more_than_a_day_ahead_is_not_believed():
    assert not_ahead(NOW + FUTURE_SLACK, NOW) == NOW + FUTURE_SLACK
    assert not_ahead(NOW + FUTURE_SLACK + timedelta(seconds=1), NOW) is None
    assert not_ahead(NOW - timedelta(days=400), NOW) == NOW - timedelta(days=400)
    assert not_ahead(None, NOW) is None
