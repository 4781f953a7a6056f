"""Cloud Manager's minimal events become cmltui's own, checked field by field."""

from __future__ import annotations

from datetime import UTC, datetime

from cmltui.api.events import LicenceChanged, WorkerPaused, held_from_event
from cmltui.backends.ccm.events import (
    ACTIVITY_TYPES,
    LICENCE_TYPES,
    to_activity,
    to_licence_event,
)
from cmltui.domain.enums import LicenseStatus, WorkerStatus
from cmltui.domain.settle import EVENT_FIELDS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAUSED = {
    "worker_id": "w-1",
    "pause_reason": "manual",
    "paused_by": "bob",
    "paused_at": "2026-03-02T09:00:00+00:00Z",
    "auto_pause_count": 1,
    "manual_pause_count": 2,
    "idle_duration_minutes": 75.5,
}


def test_a_pause_reads_as_cmltuis_event_and_holds_the_in_flight_status():
    event = to_activity("worker.paused", PAUSED, T0)
    assert isinstance(event, WorkerPaused)
    assert (event.paused_at, event.paused_by, event.manual_pause_count) == (T0, "bob", 2)
    held = held_from_event(event)
    assert held["status"].value is WorkerStatus.STOPPING and held["status"].at == T0
    assert held["status"].agrees_with("stopped") and not held["status"].agrees_with("running")


def test_outside_values_are_checked_never_trusted():
    odd = to_activity(
        "worker.paused",
        {
            **PAUSED,
            "pause_reason": "because",
            "paused_by": "",
            "manual_pause_count": float("nan"),
            "idle_duration_minutes": float("inf"),
        },
        T0,
    )
    assert isinstance(odd, WorkerPaused)
    assert (odd.pause_reason, odd.paused_by) == ("external", None)  # not said: not invented
    assert (odd.manual_pause_count, odd.idle_duration_minutes) == (0, None)


def test_an_event_without_what_cmltui_needs_is_none():
    assert to_activity("worker.paused", {**PAUSED, "paused_at": "yesterday"}, T0) is None
    assert to_activity("worker.paused", {**PAUSED, "worker_id": 5}, T0) is None
    assert to_activity("worker.something.new", PAUSED, T0) is None
    toggled = {"worker_id": "w-1", "toggled_at": "2026-03-02T09:00:00Z", "is_enabled": "no"}
    assert to_activity("worker.idle_detection.toggled", toggled, T0) is None
    # Every event the settle table knows is read from Cloud Manager, and no other: the
    # activity events, and the licence events (its four `worker.license.*` types as one).
    assert frozenset(EVENT_FIELDS) == ACTIVITY_TYPES | {LicenceChanged.type}
    for kind in LICENCE_TYPES:
        event = to_licence_event(kind, {"worker_id": "w-1"}, T0)
        assert isinstance(event, LicenceChanged) and event.at == T0


def test_a_registration_event_holds_registering_until_its_end():
    started = to_licence_event(
        "worker.license.registration.started",
        {"worker_id": "w-1", "started_at": "2026-03-02T09:00:00+00:00", "initiated_by": "ann"},
        T0,
    )
    assert started is not None and (started.step, started.by) == ("registration started", "ann")
    assert held_from_event(started)["license_operation"].value == "registering"
    failed = to_licence_event(
        "worker.license.registration.failed",
        {"worker_id": "w-1", "failed_at": "2026-03-02T09:00:05+00:00", "error_message": "no\x1b"},
        T0,
    )
    assert failed is not None and failed.detail == "no␛"  # outside text, made visible
    assert held_from_event(failed)["license_operation"].value is None
    assert "license_status" not in held_from_event(started)  # a registration leaves it be
    assert "license_status" not in held_from_event(failed)


def test_a_deregistration_holds_unregistered_until_a_snapshot_settles_it():
    gone = LicenceChanged(worker_id="w-1", step="deregistered", at=T0, by="ann", detail=None)
    held = held_from_event(gone)
    assert held["license_status"].value is LicenseStatus.UNREGISTERED
    assert held["license_status"].at == T0
    assert held["license_operation"].value is None  # and no registration is under way
