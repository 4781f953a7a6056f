"""`map_ccm_snapshot_to_dto`: Cloud Manager's payload through the one mapper."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmltui.api.dto import worker_dto_to_dict
from cmltui.ccm_facts import IdleVerdict, read_idle_status
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


def _verdict(**changes) -> IdleVerdict:
    values = {
        "is_idle": True,
        "idle_minutes": 180.0,
        "in_snooze": False,
        "eligible_for_pause": True,
        "auto_pause_enabled": True,
        "read_at": T0,
    }
    return IdleVerdict(**{**values, **changes})


def test_idle_is_cloud_managers_own_verdict_never_target_pause_at():
    """Upstream's idle detection never sets `target_pause_at` (`detect_worker_idle_command.py`
    passes None); its verdict is served at `…/idle-status`, read into `IdleVerdict`."""
    payload = _payload(target_pause_at=None, last_activity_at="2026-03-02T06:00:00+00:00")
    idle = map_ccm_snapshot_to_dto(payload, replace(CTX, verdict=_verdict()))
    assert (idle.idle_state, idle.is_idle, idle.idle_minutes) == ("idle", True, 180.0)
    assert idle.eligible_for_auto_pause is True and idle.target_pause_at is None
    # The verdict decides, not cmltui's own timeout: Cloud Manager pauses by its own.
    active = map_ccm_snapshot_to_dto(
        payload, replace(CTX, verdict=_verdict(is_idle=False, idle_minutes=20.0))
    )
    assert (active.idle_state, active.is_idle, active.idle_minutes) == ("active", False, 20.0)
    snoozing = map_ccm_snapshot_to_dto(
        payload, replace(CTX, verdict=_verdict(in_snooze=True, eligible_for_pause=False))
    )
    assert (snoozing.idle_state, snoozing.in_snooze_period) == ("snooze", True)
    # Upstream's `is_idle` stays true in its snooze; cmltui's means what it means on AWS (the
    # header's idle count and idle burn): not idle just after a resume.
    assert snoozing.is_idle is False and snoozing.eligible_for_auto_pause is False
    # Upstream's own global switch off (`auto_pause_enabled` false) reads as off.
    off = map_ccm_snapshot_to_dto(payload, replace(CTX, verdict=_verdict(auto_pause_enabled=False)))
    assert (off.idle_state, off.is_idle, off.eligible_for_auto_pause) == ("off", None, False)


def test_idle_is_unknown_until_the_verdict_is_read_never_active():
    dto = map_ccm_snapshot_to_dto(
        _payload(last_activity_at="2026-03-02T08:58:00+00:00", last_activity_check_at=None), CTX
    )
    assert (dto.idle_state, dto.is_idle, dto.idle_minutes) == ("unknown", None, None)
    off = map_ccm_snapshot_to_dto(_payload(is_idle_detection_enabled="yes"), CTX)
    assert (off.idle_state, off.is_idle_detection_enabled) == ("off", False)
    # A verdict read before the worker stopped says nothing of it now.
    stopped = map_ccm_snapshot_to_dto(_payload(status="stopped"), replace(CTX, verdict=_verdict()))
    assert (stopped.idle_state, stopped.is_idle, stopped.idle_minutes) == (None, None, None)


def test_read_idle_status_takes_upstreams_answer_and_refuses_garbage():
    model = CcmModel(12, 0, T0)
    idle = read_idle_status(model.idle_status(model.by_name("cml-idle-03"), T0), T0)
    assert idle is not None and (idle.is_idle, round(idle.idle_minutes or 0)) == (True, 180)
    assert read_idle_status({"is_idle": "yes"}, T0) is None
    assert read_idle_status([], T0) is None
    odd = read_idle_status({"is_idle": False, "idle_minutes": 10**400}, T0)
    assert odd is not None and odd.idle_minutes is None  # a number that does not fit: unknown


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
