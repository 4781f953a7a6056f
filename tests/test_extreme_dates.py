"""Dates at the edge of the calendar, through every entry point of an outside time.

Each payload converts to UTC with an OverflowError (or leaves no room for a timeout or a local
zone), so it must count as unknown for its field, with the raw text in the worker's errors, and
never fail a worker, a region or a cycle. The end-to-end runs (`snapshot`, the dashboard) are in
tests/cli/test_extreme_dates.py and tests/tui/test_extreme_dates.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cmltui.api.dto import worker_dto_to_dict
from cmltui.backends.ccm.events import to_activity
from cmltui.backends.direct.savings import pause_entries
from cmltui.domain.enums import LicenseStatus
from cmltui.domain.idle import TelemetryEvent, scan_telemetry
from cmltui.domain.savings import audit_intervals
from cmltui.domain.status import license_status, license_time_problems
from cmltui.domain.tags import TIME_TAGS, history_from_tags, tag_time_problems
from cmltui.mapper import CcmMapContext, map_ccm_snapshot_to_dto
from cmltui.sim.ccm_model import CcmModel
from cmltui.sources.aws_ec2 import parse_aws_datetime, parse_image, parse_transition_time
from cmltui.sources.cml_models import LabResponse, LicensingStatus, TelemetryEventList

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXTREMES = (
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+05:00",
)
# Valid in UTC, yet a timeout, a snooze or a local zone's offset takes them out of range.
EDGES = ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
ALL = EXTREMES + EDGES
GOOD = "2026-03-02T08:00:00+00:00"


# -- EC2 tags ----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ALL)
@pytest.mark.parametrize("key", TIME_TAGS)
def test_a_time_tag_at_the_edge_is_unknown_and_named(key, payload):
    tags = {"cmltui:last-paused-at": GOOD, "cmltui:last-resumed-at": GOOD, key: payload}
    history = history_from_tags(tags, NOW)
    field = "last_paused_at" if key.endswith("paused-at") else "last_resumed_at"
    other = "last_resumed_at" if field == "last_paused_at" else "last_paused_at"
    assert getattr(history, field) is None
    assert getattr(history, other) == datetime(2026, 3, 2, 8, tzinfo=UTC)  # untouched
    problem = tag_time_problems(tags, history_from_tags(tags, NOW))
    assert problem is not None and key in problem and payload in problem


def test_a_pause_or_resume_tag_more_than_a_day_ahead_is_not_believed():
    ahead = (NOW + timedelta(days=2)).isoformat()
    tags = {"cmltui:last-resumed-at": ahead}
    assert history_from_tags(tags, NOW).last_resumed_at is None
    assert "cmltui:last-resumed-at" in (tag_time_problems(tags, history_from_tags(tags, NOW)) or "")
    soon = {"cmltui:last-resumed-at": (NOW + timedelta(hours=2)).isoformat()}  # clock skew
    assert history_from_tags(soon, NOW).last_resumed_at == NOW + timedelta(hours=2)
    assert tag_time_problems(soon, history_from_tags(soon, NOW)) is None


# -- EC2 answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ALL)
def test_ec2_times_at_the_edge_are_unknown(payload):
    parsed = datetime.fromisoformat(payload.removesuffix("Z"))
    assert parse_aws_datetime(parsed) is None  # as botocore hands LaunchTime, AttachTime
    assert parse_aws_datetime(payload) is None  # as DescribeImages hands CreationDate
    image = parse_image({"ImageId": "ami-1", "Name": "cml", "CreationDate": payload})
    assert image.name == "cml" and image.creation_date is None
    day, clock = payload[:10], payload[11:19]
    assert parse_transition_time(f"User initiated ({day} {clock} GMT)") is None


# -- CML ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ALL)
@pytest.mark.parametrize("section", ["authorization", "registration"])
def test_a_licence_expiry_at_the_edge_makes_the_licence_unknown_and_named(section, payload):
    body = {
        "registration": {"status": "COMPLETED", "expires": GOOD},
        "authorization": {"status": "AUTHORIZED", "expires": GOOD},
    }
    body[section]["expires"] = payload
    parsed = LicensingStatus.from_response(body)  # the model does not fail
    assert getattr(parsed, section).expires is None
    public = parsed.as_public_dict()
    assert license_status(public, now=NOW) is None
    problem = license_time_problems(public)
    assert problem is not None and f"{section}.expires" in problem and payload in problem


def test_licences_with_usable_or_no_expiry_are_as_before():
    eval_ok = {"authorization": {"status": "EVAL", "expires": "2026-04-01T00:00:00Z"}}
    assert license_status(eval_ok, now=NOW) is LicenseStatus.EVALUATION
    past = {"authorization": {"status": "EVAL", "expires": "2026-01-01T00:00:00Z"}}
    assert license_status(past, now=NOW) is LicenseStatus.EXPIRED
    none = {"registration": {"status": "UNREGISTERED", "expires": None}}
    assert license_status(none, now=NOW) is LicenseStatus.UNREGISTERED
    assert license_time_problems(eval_ok) is None and license_time_problems(none) is None
    # A licence already expired by its status needs no date to say so.
    gone = {"authorization": {"status": "EVAL_EXPIRED", "expires": EXTREMES[0]}}
    assert license_status(gone, now=NOW) is LicenseStatus.EXPIRED


@pytest.mark.parametrize("payload", ALL)
def test_one_telemetry_event_at_the_edge_is_skipped_not_the_list(payload):
    body = [
        {"category": "start_lab", "timestamp": "2026-03-02T08:30:00+00:00", "data": {}},
        {"category": "start_node", "timestamp": payload, "data": {}},
        {"category": "stop_lab", "timestamp": "2026-03-02T08:10:00+00:00", "data": {}},
    ]
    events = TelemetryEventList.validate_python(body)
    assert [e.timestamp is None for e in events] == [False, True, False]
    assert events[1].unusable_time == payload
    scan = scan_telemetry(
        (TelemetryEvent(e.category, e.timestamp or e.unusable_time, e.data) for e in events),
        None,
        NOW,
    )
    assert scan.newest_activity_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert scan.high_water_mark == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert (scan.skipped_count, scan.skipped) == (1, (payload,))


def test_a_telemetry_event_days_ahead_is_neither_activity_nor_the_high_water_mark():
    ahead = NOW + timedelta(days=3)
    events = [
        TelemetryEvent("start_lab", ahead, {}),
        TelemetryEvent("start_lab", NOW - timedelta(minutes=5), {}),
    ]
    scan = scan_telemetry(events, None, NOW)
    assert scan.newest_activity_at == scan.high_water_mark == NOW - timedelta(minutes=5)
    assert scan.skipped_count == 1
    # A later real event is still seen: the future one did not raise the mark past it.
    later = scan_telemetry([TelemetryEvent("stop_lab", NOW, {})], scan.high_water_mark, NOW)
    assert later.newest_activity_at == NOW


@pytest.mark.parametrize("payload", ALL)
def test_other_cml_dates_at_the_edge_are_unknown(payload):
    lab = LabResponse.model_validate(
        {"id": "l1", "lab_title": "t", "state": "STARTED", "created": payload, "modified": GOOD}
    )
    assert lab.created is None and lab.modified is not None


# -- Cloud Manager -----------------------------------------------------------------------------

CCM_TIMES = (
    "ami_creation_date",
    "cml_last_synced_at",
    "ec2_last_checked_at",
    "cloudwatch_last_collected_at",
    "next_refresh_at",
    "created_at",
    "updated_at",
    "start_initiated_at",
    "stop_initiated_at",
    "terminated_at",
    "last_activity_at",
    "last_activity_check_at",
    "next_idle_check_at",
    "target_pause_at",
    "last_paused_at",
    "last_resumed_at",
)


@pytest.mark.parametrize("payload", ALL)
def test_every_cloud_manager_time_at_the_edge_is_unknown(payload):
    model = CcmModel(12, 0, NOW)
    snapshot = model.snapshot(model.by_name("cml-busy-01"), NOW)
    clean = map_ccm_snapshot_to_dto(snapshot, CcmMapContext(now=NOW, received_at=NOW))
    assert clean.unknown_fields == [] and clean.errors == {}
    snapshot.update(dict.fromkeys(CCM_TIMES, payload))
    dto = map_ccm_snapshot_to_dto(snapshot, CcmMapContext(now=NOW, received_at=NOW))
    data = worker_dto_to_dict(dto)
    assert [name for name in CCM_TIMES if name != "next_refresh_at" and data[name]] == []
    assert set(data["unknown_fields"]) == set(CCM_TIMES) - {"next_refresh_at"}
    assert payload in data["errors"]["times"] and "\x1b" not in data["errors"]["times"]
    json.dumps(data, allow_nan=False)
    for kind, field in [
        ("worker.paused", "paused_at"),
        ("worker.resumed", "resumed_at"),
        ("worker.idle_detection.toggled", "toggled_at"),
        ("worker.activity.updated", "last_activity_check_at"),
    ]:
        assert to_activity(kind, {"worker_id": "w", "is_enabled": True, field: payload}, NOW) is (
            None
        )


def test_cloud_manager_activity_days_ahead_is_not_last_activity():
    ahead = (NOW + timedelta(days=3)).isoformat()
    model = CcmModel(12, 0, NOW)
    snapshot = model.snapshot(model.by_name("cml-busy-01"), NOW)
    snapshot["last_activity_at"] = ahead
    dto = map_ccm_snapshot_to_dto(snapshot, CcmMapContext(now=NOW, received_at=NOW))
    assert dto.last_activity_at is None and dto.idle_minutes is None
    assert dto.unknown_fields == ["last_activity_at"]
    event = to_activity(
        "worker.activity.updated",
        {"worker_id": "w", "last_activity_check_at": NOW.isoformat(), "last_activity_at": ahead},
        NOW,
    )
    assert event is not None and event.last_activity_at is None


# -- the audit log -----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ALL)
def test_an_audit_line_at_the_edge_is_skipped(tmp_path, payload):
    path = tmp_path / "audit.jsonl"
    wid = "i-0aaaaaaaaaaaaaaa1"
    rows = [
        {"time": GOOD, "action": "pause", "instance_id": wid, "result": "intent"},
        {"time": GOOD, "action": "pause", "instance_id": wid, "result": "ok"},
        {"time": payload, "action": "resume", "instance_id": wid, "result": "intent"},
        {"time": payload, "action": "resume", "instance_id": wid, "result": "ok"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (interval,) = audit_intervals(pause_entries(path))[wid]
    assert interval.start == datetime(2026, 3, 2, 8, tzinfo=UTC) and interval.end is None
