"""The view-model: the latest snapshot by id, and event values that stand until a snapshot
settles them by the domain's one settle rule (agrees, or started after the settle time and
still disagrees)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from cmltui.api.events import ActivityUpdated, IdleDetectionToggled, WorkerPaused, WorkerResumed
from cmltui.config import Config, IdleConfig
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.idle import IdleState
from cmltui.domain.worker import CMLWorker
from cmltui.tui.fleet_view import FleetView
from tests.tui.tui_fleet import NOW, build_workers, by_name, snapshot

SETTLE = timedelta(seconds=30)


@pytest.fixture
def fleet() -> list[CMLWorker]:
    return build_workers()


def _view(fleet: list[CMLWorker], **kwargs: object) -> FleetView:
    view = FleetView(SETTLE, **kwargs)  # type: ignore[arg-type]
    view.apply_snapshot(snapshot(fleet, NOW))
    return view


def _toggle(worker_id: str, enabled: bool, seconds: float = 0) -> IdleDetectionToggled:
    return IdleDetectionToggled(
        worker_id=worker_id,
        is_enabled=enabled,
        toggled_by="me",
        toggled_at=NOW + timedelta(seconds=seconds),
    )


def _paused(worker_id: str, seconds: float = 0, microseconds: int = 0) -> WorkerPaused:
    return WorkerPaused(
        worker_id=worker_id,
        pause_reason="manual",
        paused_by="me",
        paused_at=NOW + timedelta(seconds=seconds, microseconds=microseconds),
        auto_pause_count=0,
        manual_pause_count=3,
        idle_duration_minutes=None,
    )


def test_workers_are_found_by_id(fleet):
    view = _view(fleet)
    busy = by_name(fleet, "busy").instance_id
    assert view.dto(busy) is view.by_id[busy] and view.dto(busy).name == "cml-busy-01"
    assert view.dto("i-gone") is None and view.dto(None) is None
    assert len(view.by_id) == 12


def test_a_toggle_shows_until_a_snapshot_agrees(fleet):
    view = _view(fleet)
    busy = by_name(fleet, "busy")
    assert view.apply_event(_toggle(busy.instance_id, False, 5))
    assert view.detection_enabled(busy.instance_id) is False
    assert view.is_held(busy.instance_id, "is_idle_detection_enabled")
    busy.tags["cmltui:idle-detection"] = "disabled"
    view.apply_snapshot(snapshot(fleet, NOW + timedelta(seconds=10)))
    assert not view.held(busy.instance_id)  # settled: the snapshot rules again
    assert view.detection_enabled(busy.instance_id) is False


def test_an_older_snapshot_and_one_within_the_settle_time_do_not_undo_it(fleet):
    view = _view(fleet)
    busy = by_name(fleet, "busy").instance_id
    view.apply_event(_toggle(busy, False))
    for started in (NOW - timedelta(seconds=5), NOW + SETTLE):
        view.apply_snapshot(snapshot(fleet, started))
        assert view.detection_enabled(busy) is False
        assert view.is_held(busy, "is_idle_detection_enabled")


def test_a_snapshot_started_after_the_settle_time_that_still_disagrees_wins(fleet):
    view = _view(fleet)
    busy = by_name(fleet, "busy").instance_id
    view.apply_event(_toggle(busy, False))
    view.apply_snapshot(snapshot(fleet, NOW + SETTLE + timedelta(seconds=1)))
    assert view.detection_enabled(busy) is True
    assert not view.held(busy)


def test_a_pause_holds_its_fields_only_and_the_in_flight_status(fleet):
    view = _view(fleet)
    busy = by_name(fleet, "busy")
    before = view.dto(busy.instance_id)
    assert view.apply_event(_paused(busy.instance_id))
    assert view.status(busy.instance_id) is WorkerStatus.STOPPING
    assert view.in_flight(busy.instance_id)
    assert view.status_word(busy.instance_id) == "stopping…"
    assert view.value(busy.instance_id, "manual_pause_count") == 3
    assert view.value(busy.instance_id, "paused_by") == "me"
    # what the event does not carry is the snapshot's
    assert view.detection_enabled(busy.instance_id) is before.is_idle_detection_enabled
    assert view.value(busy.instance_id, "cpu_utilization") == before.cpu_utilization
    # a snapshot read before the stop shows it running: the marker stays
    view.apply_snapshot(snapshot(fleet, NOW + timedelta(seconds=10)))
    assert view.status_word(busy.instance_id) == "stopping…"
    busy.status = WorkerStatus.STOPPED
    view.apply_snapshot(snapshot(fleet, NOW + timedelta(seconds=11)))
    assert not view.in_flight(busy.instance_id)
    assert view.status_word(busy.instance_id) == "stopped"


def test_a_resume_is_confirmed_by_pending_or_running(fleet):
    view = _view(fleet)
    stopped = by_name(fleet, "stopped")
    resumed = WorkerResumed(
        worker_id=stopped.instance_id,
        resume_reason="manual",
        resumed_by="me",
        resumed_at=NOW,
        auto_resume_count=0,
        manual_resume_count=1,
        was_auto_paused=False,
    )
    view.apply_event(resumed)
    assert view.status_word(stopped.instance_id) == "starting…"
    stopped.status = WorkerStatus.PENDING
    view.apply_snapshot(snapshot(fleet, NOW + timedelta(seconds=2)))
    assert not view.in_flight(stopped.instance_id)
    assert view.status_word(stopped.instance_id) == "pending"


def test_times_agree_at_whole_seconds(fleet):
    view = _view(fleet)
    busy = by_name(fleet, "busy")
    view.apply_event(_paused(busy.instance_id, microseconds=456789))
    busy.status = WorkerStatus.STOPPED
    busy.history.last_paused_at = NOW  # the tag keeps whole seconds
    view.apply_snapshot(snapshot(fleet, NOW + timedelta(seconds=1)))
    held = view.held(busy.instance_id)
    assert "last_paused_at" not in held and "status" not in held
    assert "paused_by" in held  # that snapshot still says someone else: held on


def test_a_minimal_event_never_blanks_what_it_does_not_carry(fleet):
    view = _view(fleet)
    busy = by_name(fleet, "busy").instance_id
    listed = view.dto(busy).last_activity_at
    assert listed is not None
    checked = ActivityUpdated(
        worker_id=busy,
        last_activity_at=None,  # null means "no news", not "never"
        last_activity_check_at=NOW + timedelta(seconds=1),
        next_idle_check_at=NOW + timedelta(minutes=5),
        target_pause_at=NOW + timedelta(minutes=60),
    )
    view.apply_event(checked)
    assert view.value(busy, "last_activity_at") == listed
    assert view.value(busy, "target_pause_at") == NOW + timedelta(minutes=60)
    assert view.detection_enabled(busy) is True


def test_workers_no_longer_listed_are_forgotten(fleet):
    view = _view(fleet)
    busy = by_name(fleet, "busy")
    view.apply_event(_toggle(busy.instance_id, False))
    fleet.remove(busy)
    view.apply_snapshot(snapshot(fleet, NOW + timedelta(seconds=1)))
    assert not view.held(busy.instance_id) and view.dto(busy.instance_id) is None


def test_a_toggle_not_yet_listed_gives_the_state_it_implies_never_active(fleet):
    view = _view(fleet)
    busy, labs = by_name(fleet, "busy").instance_id, by_name(fleet, "labs").instance_id
    assert view.idle_state(busy) is IdleState.ACTIVE
    view.apply_event(_toggle(busy, False))
    assert view.idle_state(busy) is IdleState.OFF
    assert view.idle_state(labs) is IdleState.OFF  # its tag says disabled
    view.apply_event(_toggle(labs, True))
    assert view.idle_state(labs) is IdleState.UNKNOWN  # switched on, not read yet
    assert view.idle_state(by_name(fleet, "stopped").instance_id) is None


def test_with_idle_detection_off_globally_a_toggle_leaves_it_off(fleet):
    config = Config(idle=IdleConfig(enabled=False))
    view = FleetView(SETTLE, idle_enabled=False)
    view.apply_snapshot(snapshot(fleet, NOW, config))
    labs = by_name(fleet, "labs").instance_id
    view.apply_event(_toggle(labs, True))
    assert view.idle_state(labs) is IdleState.OFF


def test_the_view_model_is_plain_python():
    """The model half of the dashboard loads no Textual (nor any source client)."""
    code = (
        "import sys, cmltui.tui.fleet_view, cmltui.keymap; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'boto3', 'aiohttp'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
