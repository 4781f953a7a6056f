"""`map_ccm_snapshot_to_dto`: Cloud Manager's payload through the one mapper."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmltui.api.dto import worker_dto_to_dict
from cmltui.domain.idle import IdleSettings
from cmltui.domain.times import parse_time
from cmltui.mapper import CcmMapContext, map_ccm_snapshot_to_dto
from cmltui.sim.ccm_model import CcmModel

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CTX = CcmMapContext(now=T0, received_at=T0)


def _payload(**changes):
    model = CcmModel(12, 0, T0)
    payload = model.snapshot(model.by_name("cml-busy-01"), T0)
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T09:00:00+00:00Z", T0),  # upstream: isoformat() + "Z" on an aware time
        ("2026-03-02T09:00:00Z", T0),
        ("2026-03-02T09:00:00", T0),  # naive means UTC
        ("2026-03-02T10:00:00+01:00", T0),
        ("2026-03-02T09:00:00.000Z", T0),
    ],
)
def test_upstream_times_parse(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-13-02T09:00:00Z", 5, None, "9" * 100])
def test_bad_times_become_none(bad):
    assert parse_time(bad) is None


def test_license_token_never_reaches_the_dto():
    dto = map_ccm_snapshot_to_dto(_payload(cml_license_info={"x": 1, "token": "S3CRET"}), CTX)
    data = worker_dto_to_dict(dto)
    assert "license_token" not in data
    assert "S3CRET" not in repr(data) and "SLR-" not in repr(data)
    assert data["cml_license_info"] == {"x": 1}


def test_values_are_checked_and_bounded():
    dto = map_ccm_snapshot_to_dto(
        _payload(
            cpu_utilization=140,
            memory_utilization="50",
            storage_utilization=float("nan"),
            disk_utilization=True,
            status="starting",
            service_status="bogus",
            name="x" * 5000,
            aws_tags={"a": "b", "n": 1},
            cml_system_health={"deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}},
            auto_pause_count=-3,
        ),
        CTX,
    )
    assert dto.cpu_utilization == 100.0
    assert dto.memory_utilization is None and dto.storage_utilization is None
    assert dto.status.value == "pending" and dto.service_status.value == "unavailable"
    assert len(dto.name) == 512
    assert dto.aws_tags == {"a": "b"}
    assert dto.auto_pause_count == 0
    assert "g" not in repr(dto.cml_system_health)


def test_held_values_win_over_the_payload():
    dto = map_ccm_snapshot_to_dto(
        _payload(is_idle_detection_enabled=True),
        CcmMapContext(now=T0, received_at=T0, held={"is_idle_detection_enabled": False}),
    )
    assert dto.is_idle_detection_enabled is False


def test_idle_comes_from_the_domains_rule_not_from_target_pause_at():
    two_hours_ago = "2026-03-02T07:00:00+00:00"
    checked = "2026-03-02T08:59:00+00:00"
    idle = map_ccm_snapshot_to_dto(
        _payload(
            last_activity_at=two_hours_ago, last_activity_check_at=checked, target_pause_at=None
        ),
        CTX,
    )
    assert (idle.idle_state, idle.is_idle, idle.idle_minutes) == ("idle", True, 120.0)
    # The configured timeout decides, as on AWS: three hours is not reached yet.
    patient = CcmMapContext(now=T0, received_at=T0, idle=IdleSettings(timeout=timedelta(hours=3)))
    active = map_ccm_snapshot_to_dto(
        _payload(last_activity_at=two_hours_ago, last_activity_check_at=checked), patient
    )
    assert (active.idle_state, active.is_idle) == ("active", False)
    # A resume counts like activity: resumed ten minutes ago, the worker is not idle.
    resumed = map_ccm_snapshot_to_dto(
        _payload(
            last_activity_at=two_hours_ago,
            last_activity_check_at=checked,
            last_resumed_at="2026-03-02T08:50:00+00:00Z",
        ),
        CTX,
    )
    assert (resumed.idle_state, resumed.idle_minutes) == ("active", 10.0)


def test_activity_never_checked_is_unknown_never_active():
    dto = map_ccm_snapshot_to_dto(
        _payload(last_activity_at="2026-03-02T08:58:00+00:00", last_activity_check_at=None), CTX
    )
    assert (dto.idle_state, dto.is_idle, dto.idle_minutes) == ("unknown", None, None)
    off = map_ccm_snapshot_to_dto(_payload(is_idle_detection_enabled="yes"), CTX)
    assert (off.idle_state, off.is_idle_detection_enabled) == ("off", False)


def test_prices_come_from_the_same_lookup_as_on_aws():
    model = CcmModel(12, 0, T0)
    running = map_ccm_snapshot_to_dto(model.snapshot(model.by_name("cml-busy-01"), T0), CTX)
    assert running.hourly_cost is not None and running.hourly_cost > 1
    assert running.price_source == "table"
    stopped = map_ccm_snapshot_to_dto(model.snapshot(model.by_name("cml-stopped-06"), T0), CTX)
    assert stopped.status.value == "stopped" and stopped.idle_minutes is None
    assert stopped.hourly_cost == 0.0


@given(st.dictionaries(st.sampled_from(sorted(_payload())), st.from_type(object) | st.text()))
def test_any_payload_maps_or_fails_cleanly(garbage):
    payload = {**_payload(), **garbage}
    with contextlib.suppress(ValueError):  # pydantic's ValidationError, caught per worker
        map_ccm_snapshot_to_dto(payload, CTX)
