"""Idle detection and auto-pause (README, "Idle detection and auto-pause")."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from cmltui.domain import idle
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.idle import IdleSettings, TelemetryEvent, scan_telemetry
from cmltui.domain.tags import IDLE_DETECTION_TAG
from cmltui.domain.transitions import apply_status
from tests.core_factories import NOW, running_worker

S = IdleSettings()  # timeout 60 min, snooze 60 min


def ago(**kw) -> datetime:
    return NOW - timedelta(**kw)


def test_reference_is_latest_of_activity_resume_and_launch():
    w = running_worker(launch_time=ago(hours=10))
    w.activity.last_activity_at = ago(hours=3)
    w.history.last_resumed_at = ago(hours=5)
    assert idle.reference_time(w) == ago(hours=3)
    w.history.last_resumed_at = ago(hours=2)
    assert idle.reference_time(w) == ago(hours=2)
    w.launch_time = ago(hours=1)
    assert idle.reference_time(w) == ago(hours=1)
    assert idle.idle_minutes(w, NOW) == pytest.approx(60.0)


def test_idle_past_timeout_and_target():
    w = running_worker(launch_time=ago(days=2))
    w.activity.last_activity_at = ago(minutes=90)
    assert idle.is_idle(w, S, NOW) is True
    assert idle.target_pause_at(w, S) == ago(minutes=30)
    assert idle.eligible_for_auto_pause(w, S, NOW) is True
    w.activity.last_activity_at = ago(minutes=59)
    assert idle.is_idle(w, S, NOW) is False
    assert idle.eligible_for_auto_pause(w, S, NOW) is False


def test_snooze_after_resume_blocks_pause_and_pushes_target():
    w = running_worker(launch_time=ago(days=2))
    w.history.last_resumed_at = ago(minutes=20)
    settings = replace(S, timeout=timedelta(minutes=10))  # idle already, but in snooze
    assert idle.in_snooze_period(w, settings, NOW) is True
    assert idle.is_idle(w, settings, NOW) is True
    assert idle.eligible_for_auto_pause(w, settings, NOW) is False
    # reference + timeout = 10 min ago; pushed past the snooze end (resume + 60 = in 40 min)
    assert idle.target_pause_at(w, settings) == NOW + timedelta(minutes=40)


def test_start_outside_cmltui_is_detected_as_a_stopped_to_running_change():
    w = running_worker(launch_time=ago(days=5))
    w.activity.last_activity_at = ago(hours=4)
    apply_status(w, WorkerStatus.STOPPED, observed_at=ago(hours=3))
    apply_status(w, WorkerStatus.RUNNING, observed_at=ago(minutes=5))  # nobody in cmltui asked
    assert w.activity.external_start_at == ago(minutes=5)
    assert idle.reference_time(w) == ago(minutes=5)
    assert idle.in_snooze_period(w, S, NOW) is True


def test_start_by_cmltui_is_not_external():
    w = running_worker()
    apply_status(w, WorkerStatus.STOPPED, observed_at=ago(hours=3))
    w.start_initiated_at = ago(minutes=6)
    apply_status(w, WorkerStatus.RUNNING, observed_at=ago(minutes=5))
    assert w.activity.external_start_at is None
    assert w.start_initiated_at is None  # confirmed, no longer in flight


def test_newer_launch_time_counts_as_a_start():
    w = running_worker(launch_time=ago(minutes=15))
    assert idle.in_snooze_period(w, S, NOW) is True
    assert idle.reference_time(w) == ago(minutes=15)


def _ev(category, minutes_ago, **data):
    return TelemetryEvent(
        category, (NOW - timedelta(minutes=minutes_ago)).replace(tzinfo=None), data
    )


def test_service_account_activity_ignored_and_naive_is_utc():
    events = [
        _ev("user_activity", 5, user_id="00000000-0000-4000-a000-000000000000"),
        _ev("user_activity", 30, user_id="7d0c3a8e-1111-4222-8333-444455556666"),
        _ev("system_stats", 1),  # not an activity category
    ]
    scan = scan_telemetry(events, high_water=None)
    assert scan.newest_activity_at == ago(minutes=30)
    assert scan.newest_activity_at.tzinfo is not None
    assert scan.high_water_mark == ago(minutes=1)
    assert scan.user_ids == ("7d0c3a8e-1111-4222-8333-444455556666",)


def test_events_at_or_before_high_water_are_ignored():
    events = [_ev("start_lab", 30), _ev("stop_node", 20), _ev("boot_node", 10)]
    scan = scan_telemetry(events, high_water=ago(minutes=10))
    assert scan.newest_activity_at is None
    assert scan.high_water_mark == ago(minutes=10)
    scan = scan_telemetry(events, high_water=ago(minutes=25))
    assert scan.newest_activity_at == ago(minutes=10)


@pytest.mark.parametrize(
    "category",
    sorted(idle.ACTIVITY_CATEGORIES - {"user_activity"}),
)
def test_each_activity_category_counts(category):
    assert scan_telemetry([_ev(category, 3)], None).newest_activity_at == ago(minutes=3)


def _idle_worker():
    w = running_worker(launch_time=ago(days=2))
    w.activity.last_activity_at = ago(hours=2)
    return w


def test_switch_global_enabled():
    w = _idle_worker()
    off = replace(S, enabled=False)
    assert idle.is_idle(w, off, NOW) is None
    assert idle.target_pause_at(w, off) is None
    assert idle.next_idle_check_at(w, off, NOW) is None
    assert idle.eligible_for_auto_pause(w, off, NOW) is False


def test_switch_per_worker_tag_and_default():
    w = _idle_worker()
    w.tags[IDLE_DETECTION_TAG] = "disabled"
    assert idle.detection_enabled_for(w, S) is False
    assert idle.eligible_for_auto_pause(w, S, NOW) is False
    assert idle.target_pause_at(w, S) is None
    w.tags[IDLE_DETECTION_TAG] = "enabled"
    off_by_default = replace(S, default_per_worker=False)
    assert idle.eligible_for_auto_pause(w, off_by_default, NOW) is True
    del w.tags[IDLE_DETECTION_TAG]
    assert idle.eligible_for_auto_pause(w, off_by_default, NOW) is False
    assert idle.eligible_for_auto_pause(w, S, NOW) is True


def test_switch_auto_pause_does_not_change_eligibility_only_action():
    # auto_pause is the third switch; eligibility is the same, the idle checker acts only if on.
    w = _idle_worker()
    assert idle.eligible_for_auto_pause(w, replace(S, auto_pause=False), NOW) is True
    assert S.auto_pause is False  # default off


def test_unknown_until_telemetry_was_read():
    w = _idle_worker()
    w.activity.last_activity_check_at = None
    assert idle.is_idle(w, S, NOW) is None
    assert idle.eligible_for_auto_pause(w, S, NOW) is False  # never pause on a guess
    assert idle.target_pause_at(w, S) is not None  # still computed from what is known


def test_next_check_and_stopped_worker():
    w = _idle_worker()
    w.activity.last_activity_check_at = None
    assert idle.next_idle_check_at(w, S, NOW) == NOW  # never checked: due now
    w.activity.last_activity_check_at = ago(minutes=1)
    assert idle.next_idle_check_at(w, S, NOW) == ago(minutes=1) + timedelta(seconds=300)
    w.status = WorkerStatus.STOPPED
    assert idle.target_pause_at(w, S) is None and idle.next_idle_check_at(w, S, NOW) is None
    assert idle.is_idle(w, S, NOW) is None
