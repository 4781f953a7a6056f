"""The settle rule as a pure function (SPEC §1): event patches versus snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cmltui.api.events import ActivityUpdated, IdleDetectionToggled, WorkerPaused, WorkerResumed
from cmltui.tui.overlay import (
    DETECTION_FIELD,
    IDLE_FIELDS,
    IN_FLIGHT_FIELD,
    PAUSE_FIELDS,
    ROW_FIELDS,
    STARTING,
    STOPPING,
    Overlay,
)

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SETTLE = timedelta(seconds=30)


def _toggle(enabled: bool, at: datetime = T0) -> IdleDetectionToggled:
    return IdleDetectionToggled(worker_id="w1", is_enabled=enabled, toggled_by="me", toggled_at=at)


def _paused(at: datetime = T0) -> WorkerPaused:
    return WorkerPaused(
        worker_id="w1",
        pause_reason="manual",
        paused_by="me",
        paused_at=at,
        auto_pause_count=0,
        manual_pause_count=3,
        idle_duration_minutes=None,
    )


def test_patch_shows_until_a_snapshot_agrees():
    overlay = Overlay(IDLE_FIELDS, SETTLE)
    assert overlay.apply(_toggle(False))
    assert overlay.value("w1", "is_idle_detection_enabled", True) is False
    overlay.reconcile("w1", {"is_idle_detection_enabled": False}, T0 + timedelta(seconds=5))
    assert not overlay.patched("w1", "is_idle_detection_enabled")
    assert overlay.value("w1", "is_idle_detection_enabled", True) is True  # snapshot rules again


def test_older_snapshot_and_one_within_settle_do_not_undo_the_event():
    overlay = Overlay(IDLE_FIELDS, SETTLE)
    overlay.apply(_toggle(False))
    for collected in (T0 - timedelta(seconds=5), T0 + SETTLE):
        overlay.reconcile("w1", {"is_idle_detection_enabled": True}, collected)
        assert overlay.value("w1", "is_idle_detection_enabled", True) is False


def test_snapshot_started_after_settle_that_still_disagrees_wins():
    overlay = Overlay(IDLE_FIELDS, SETTLE)
    overlay.apply(_toggle(False))
    overlay.reconcile("w1", {"is_idle_detection_enabled": True}, T0 + SETTLE + timedelta(seconds=1))
    assert overlay.value("w1", "is_idle_detection_enabled", True) is True
    assert not overlay.patched("w1", "is_idle_detection_enabled")


def test_overlay_keeps_only_its_own_fields():
    idle = Overlay(IDLE_FIELDS, SETTLE)
    row = Overlay(ROW_FIELDS, SETTLE)
    pause = Overlay(PAUSE_FIELDS, SETTLE)
    assert not idle.apply(_paused())
    assert row.apply(_paused()) and pause.apply(_paused())
    # The row shows the idle switch too (its IDLE cell), so a toggle patches it at once.
    assert row.apply(_toggle(False))
    assert row.value("w1", DETECTION_FIELD, True) is False
    assert row.value("w1", IN_FLIGHT_FIELD, "running") == STOPPING
    assert row.value("w1", "manual_pause_count", 2) == 2  # not a row field
    assert pause.value("w1", "manual_pause_count", 2) == 3


def test_in_flight_marker_is_confirmed_by_stopping_or_stopped_only():
    row = Overlay(ROW_FIELDS, SETTLE)
    row.apply(_paused())
    row.reconcile("w1", {IN_FLIGHT_FIELD: "running"}, T0 + timedelta(seconds=10))
    assert row.value("w1", IN_FLIGHT_FIELD, "running") == STOPPING
    row.reconcile("w1", {IN_FLIGHT_FIELD: "stopped"}, T0 + timedelta(seconds=11))
    assert row.value("w1", IN_FLIGHT_FIELD, "stopped") == "stopped"
    resumed = WorkerResumed(
        worker_id="w1",
        resume_reason="manual",
        resumed_by="me",
        resumed_at=T0,
        auto_resume_count=0,
        manual_resume_count=1,
        was_auto_paused=False,
    )
    row.apply(resumed)
    assert row.value("w1", IN_FLIGHT_FIELD, "stopped") == STARTING
    row.reconcile("w1", {IN_FLIGHT_FIELD: "pending"}, T0 + timedelta(seconds=2))
    assert not row.patched("w1", IN_FLIGHT_FIELD)


def test_tag_times_agree_at_whole_seconds():
    pause = Overlay(PAUSE_FIELDS, SETTLE)
    at = T0 + timedelta(microseconds=456789)
    pause.apply(_paused(at))
    pause.reconcile("w1", {"last_paused_at": T0}, T0 + timedelta(seconds=1))
    assert not pause.patched("w1", "last_paused_at")
    assert pause.patched("w1", "paused_by")  # not in that snapshot's values: still patched


def test_activity_update_patches_idle_fields_and_forget():
    idle = Overlay(IDLE_FIELDS, SETTLE)
    event = ActivityUpdated(
        worker_id="w1",
        last_activity_at=T0 - timedelta(minutes=1),
        last_activity_check_at=T0,
        next_idle_check_at=T0 + timedelta(minutes=5),
        target_pause_at=T0 + timedelta(minutes=59),
    )
    assert idle.apply(event)
    assert idle.value("w1", "target_pause_at", None) == T0 + timedelta(minutes=59)
    idle.forget_except(["w2"])
    assert not idle.patched("w1", "target_pause_at")
