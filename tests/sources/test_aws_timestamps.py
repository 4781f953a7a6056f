"""The fast AWS timestamp parser agrees with botocore's and always gives aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.utils import parse_timestamp

from cmltui.sources.aws import fast_timestamp


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02T09:00:00.000Z",
        "2026-03-02T09:00:00Z",
        "2026-03-02T11:00:00+02:00",
        "2026-03-02T09:00:00.123456+00:00",
        1772442000,
        "Mon, 02 Mar 2026 09:00:00 GMT",
    ],
)
def test_fast_timestamp_matches_botocore(value):
    ours = fast_timestamp(value)
    assert ours.tzinfo is not None
    assert ours == parse_timestamp(value)


def test_naive_iso_is_utc():
    assert fast_timestamp("2026-03-02T09:00:00") == datetime(2026, 3, 2, 9, tzinfo=UTC)
