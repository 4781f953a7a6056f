"""CcmBackend against the Cloud Manager simulator over real HTTPS on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from cmltui.api.backend import ActionRefused
from cmltui.api.dto import worker_dto_to_dict
from cmltui.api.events import FleetSnapshot, IdleDetectionToggled, WorkerPaused, WorkerResumed
from cmltui.backends.ccm.backend import CcmBackend
from cmltui.clock import ManualClock
from cmltui.sim.ccm_model import TRANSITION_S, Outgoing
from cmltui.sim.ccm_server import CcmSimulator
from cmltui.sim.fleet import build_fleet

from .ccm_helpers import FAST, Recorder, ccm_config, live_backend, make_backend, wait_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IDLE_FIELDS = {
    "is_idle_detection_enabled",
    "next_idle_check_at",
    "target_pause_at",
    "idle_minutes",
    "is_idle",
    "idle_state",
}



@pytest_asyncio.fixture
async def live(sim: CcmSimulator, tmp_path: Path) -> AsyncIterator[tuple[CcmBackend, Recorder]]:
    async with live_backend(sim, tmp_path) as (backend, recorder):
        backend.publish()
        yield backend, recorder


def _by_name(snapshot: FleetSnapshot) -> dict[str, dict[str, object]]:
    return {dto.name: worker_dto_to_dict(dto) for dto in snapshot.workers}


async def test_initial_snapshot_set_fills_the_fleet(live, sim):
    backend, recorder = live
    snapshot = recorder.snapshots[-1]
    assert sorted(d.name for d in snapshot.workers) == sorted(s.name for s in build_fleet(12, 0))
    assert recorder.states()[-1] == "ok"
    busy = _by_name(snapshot)["cml-busy-01"]
    upstream = sim.model.snapshot(sim.model.by_name("cml-busy-01"), T0)
    assert busy["id"] == upstream["id"]
    assert busy["cpu_utilization"] == upstream["cpu_utilization"]
    # Upstream's event times end in "+00:00Z": parsed, and written back with one offset.
    assert busy["collected_at"] == T0.isoformat()
    assert _by_name(snapshot)["cml-stopped-06"]["status"] == "stopped"
    assert all(count == 1 for count in backend.applied.values())


async def test_toggle_comes_back_as_the_servers_event_and_changes_only_idle_fields(live, sim):
    backend, recorder = live
    before = recorder.snapshots[-1]
    dto = next(d for d in before.workers if d.name == "cml-busy-01")
    event = await backend.toggle_idle_detection(dto.id, dto.is_idle_detection_enabled)
    assert isinstance(event, IdleDetectionToggled)
    assert event.toggled_by == "ccm-sim-user"  # Cloud Manager's own event, not a local one
    assert event.is_enabled is not dto.is_idle_detection_enabled
    assert sim.sent.get("worker.idle_detection.toggled") == 1
    after = backend.publish()
    old, new = _by_name(before), _by_name(after)
    changed = {k for k in old["cml-busy-01"] if old["cml-busy-01"][k] != new["cml-busy-01"][k]}
    assert changed and changed <= IDLE_FIELDS | {"next_refresh_at"}
    assert "is_idle_detection_enabled" in changed
    for name in old:
        if name != "cml-busy-01":
            assert {k for k in old[name] if old[name][k] != new[name][k]} <= {"next_refresh_at"}
    audit = [json.loads(x) for x in (backend.audit.path).read_text().splitlines()]
    assert [(a["action"], a["result"]) for a in audit[-2:]] == [
        ("toggle_idle_detection", "intent"),
        ("toggle_idle_detection", "ok"),
    ]
    assert audit[-1]["operator"] == "tester" and audit[-1]["detail"]["via"] == f"ccm {sim.url}"


async def test_pause_and_resume_round_trip(live, sim):
    backend, recorder = live
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    dto = next(d for d in recorder.snapshots[-1].workers if d.name == "cml-idle-03")
    paused = await backend.pause(dto.id)
    assert isinstance(paused, WorkerPaused) and paused.manual_pause_count == 1
    await wait_for(lambda: _status(recorder, "cml-idle-03") == "stopping")
    clock.advance(TRANSITION_S)
    sim.emit(sim.model.advance(clock.now()))
    await wait_for(lambda: _status(recorder, "cml-idle-03") == "stopped")
    resumed = await backend.resume(dto.id)
    assert isinstance(resumed, WorkerResumed) and resumed.manual_resume_count == 1
    await wait_for(lambda: _status(recorder, "cml-idle-03") == "pending")
    clock.advance(TRANSITION_S)
    sim.emit(sim.model.advance(clock.now()))
    await wait_for(lambda: _status(recorder, "cml-idle-03") == "running")
    final = _by_name(recorder.snapshots[-1])["cml-idle-03"]
    assert final["manual_pause_count"] == 1 and final["manual_resume_count"] == 1
    with pytest.raises(ActionRefused, match="already running"):
        await backend.resume(dto.id)


def _status(recorder: Recorder, name: str) -> str | None:
    snapshot = recorder.snapshots[-1] if recorder.snapshots else None
    found = [d.status.value for d in snapshot.workers if d.name == name] if snapshot else []
    return found[0] if found else None


async def test_read_only_and_in_flight_guard(sim, tmp_path):
    config = ccm_config(sim, read_only=True)
    backend = make_backend(sim, tmp_path, config=config)
    await backend.start()
    try:
        assert await backend.wait_initial_set(5)
        worker = sim.model.by_name("cml-busy-01")
        with pytest.raises(ActionRefused, match="read-only"):
            await backend.toggle_idle_detection(worker.id, True)
        with pytest.raises(ActionRefused, match="read-only"):
            await backend.pause(worker.id)
        assert worker.idle_enabled is True and worker.status == "running"
        assert "worker.idle_detection.toggled" not in sim.sent
    finally:
        await backend.close()


async def test_a_second_action_on_the_same_worker_is_refused_while_one_is_in_flight(live, sim):
    import asyncio

    backend, _ = live
    worker = sim.model.by_name("cml-labs-02")
    first = asyncio.create_task(backend.toggle_idle_detection(worker.id, worker.idle_enabled))
    await asyncio.sleep(0)
    with pytest.raises(ActionRefused, match="in flight"):
        await backend.toggle_idle_detection(worker.id, worker.idle_enabled)
    await first
    assert sim.sent.get("worker.idle_detection.toggled") == 1


async def test_a_stale_snapshot_never_undoes_a_toggle_until_settle_time_has_passed(live, sim):
    """Upstream sends no snapshot after a toggle (`worker_activity_events_handler.py`): one
    computed from the old state may follow it, newer by `updated_at` than the one kept, and
    only the settle rule keeps it from undoing the toggle."""
    backend, _ = live
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    worker = sim.model.by_name("cml-busy-01")
    event = await backend.toggle_idle_detection(worker.id, True)
    assert event.is_enabled is False
    # A snapshot computed from old state (but with newer metrics) arrives 5 s after the event:
    # it must not undo it.
    worker.idle_enabled = True
    clock.advance(5)
    sim.model.cml_metrics(worker, clock.now())
    sim.emit([sim.model.snapshot_event(worker, clock.now(), "telemetry_updated")])
    await wait_for(lambda: backend.applied[worker.id] == 2)
    assert _by_name(backend.publish())["cml-busy-01"]["is_idle_detection_enabled"] is False
    # Past the settle time a disagreeing snapshot means someone changed it back: it wins.
    clock.advance(40)
    worker.updated_at = clock.now()
    sim.emit([sim.model.snapshot_event(worker, clock.now(), "telemetry_updated")])
    await wait_for(lambda: backend.applied[worker.id] == 3)
    assert _by_name(backend.publish())["cml-busy-01"]["is_idle_detection_enabled"] is True


async def test_a_snapshot_read_before_a_pause_never_puts_running_back(live, sim):
    """Upstream's order (`stop_cml_worker_command.py`): the status is saved first, so its
    snapshot (already `stopping`) goes out before `worker.paused` and settles the pause's held
    status at once; a snapshot read before the stop and sent after both must not put `running`
    back: it is older by `updated_at` (or does not say it), and is dropped."""
    backend, _recorder = live
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    worker = sim.model.by_name("cml-busy-01")
    read_before = sim.model.snapshot_event(worker, clock.now(), "telemetry_updated")
    clock.advance(1)
    seen = sim.sent.get("worker.snapshot", 0)
    paused = await backend.pause(worker.id)
    assert paused.paused_by is None  # the REST route passes no user upstream
    assert sim.sent["worker.snapshot"] == seen + 1  # the status update's snapshot came first,
    assert backend.fleet.entries[worker.id].payload["status"] == "stopping"  # then the event
    shown = _by_id(backend.publish(), worker.id)
    assert (shown["status"], shown["manual_pause_count"], shown["paused_by"]) == (
        "stopping",
        1,
        None,
    )

    clock.advance(5)  # the snapshot read before the pause arrives after it
    stale = backend.fleet.stale
    sim.broadcast(read_before)
    await wait_for(lambda: backend.fleet.stale == stale + 1)
    assert _by_id(backend.publish(), worker.id)["status"] == "stopping"
    blind = dict(read_before.data)  # and one that does not say: not newer than one that does
    del blind["updated_at"]
    sim.broadcast(Outgoing("worker.snapshot", blind, "domain.cml_worker.snapshot"))
    await wait_for(lambda: backend.fleet.stale == stale + 2)
    applied = backend.applied[worker.id]
    shown = _by_id(backend.publish(), worker.id)
    assert (shown["status"], shown["manual_pause_count"]) == ("stopping", 1)
    assert shown["hourly_cost"] == 0.0 and shown["idle_state"] is None

    # Someone starts it again; a snapshot sent after the event plus the settle time (30 s) that
    # still disagrees is not stale: it wins.
    clock.advance(40)
    worker.status, worker.transition_at, worker.updated_at = "running", None, clock.now()
    sim.broadcast(sim.model.snapshot_event(worker, clock.now(), "status_updated"))
    await wait_for(lambda: backend.applied[worker.id] == applied + 1)
    assert _by_id(backend.publish(), worker.id)["status"] == "running"


async def test_an_accepted_action_whose_event_never_comes_stands_in_for_it(sim, tmp_path):
    """A toggle or a pause Cloud Manager made, whose event is lost on the way: the expected
    event is held and published instead. (One it had nothing to do for is refused at once:
    `test_prompt_answers.py`.)"""
    backend = make_backend(sim, tmp_path, timing=replace(FAST, action_event_timeout=0.3))
    recorder = Recorder(backend)
    await backend.start()
    try:
        assert await backend.wait_initial_set(5)
        worker = sim.model.by_name("cml-busy-01")
        assert worker.idle_enabled is True
        emit = sim.emit
        lost = {"worker.idle_detection.toggled", "worker.paused"}
        sim.emit = lambda events: emit([e for e in events if e.type not in lost])
        toggled = await backend.toggle_idle_detection(worker.id, shown_enabled=True)
        assert (toggled.is_enabled, toggled.toggled_by) == (False, "tester")  # ours, not theirs
        assert worker.idle_enabled is False and "worker.idle_detection.toggled" not in sim.sent
        paused = await backend.pause(worker.id)
        sim.emit = emit
        assert (paused.paused_by, paused.manual_pause_count) == ("tester", 1)
        assert recorder.activity[-2:] == [toggled, paused]  # on the channel, once each
        assert _by_id(backend.publish(), worker.id)["status"] == "stopping"  # held
        audit = [json.loads(x) for x in backend.audit.path.read_text().splitlines()]
        assert [(a["action"], a["result"]) for a in audit] == [
            ("toggle_idle_detection", "intent"),
            ("toggle_idle_detection", "ok"),
            ("pause", "intent"),
            ("pause", "ok"),
        ]
        assert audit[0]["detail"] == {"is_enabled": False, "via": f"ccm {sim.url}"}
    finally:
        await backend.close()


def _by_id(snapshot: FleetSnapshot, worker_id: str) -> dict[str, object]:
    return next(worker_dto_to_dict(d) for d in snapshot.workers if d.id == worker_id)


async def test_metrics_events_update_the_next_fleet_snapshot(live, sim):
    backend, _recorder = live
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    clock.advance(600)
    sim.emit(sim.model.advance(clock.now()))
    expected = sim.model.by_name("cml-busy-01").cpu
    await wait_for(
        lambda: _by_name(backend.publish())["cml-busy-01"]["cpu_utilization"] == expected
    )


async def test_unknown_event_types_are_logged_once_and_ignored(live, sim, caplog):
    _backend, recorder = live
    caplog.set_level(logging.INFO, logger="cmltui.backends.ccm.backend")
    for _ in range(3):
        sim.broadcast(Outgoing("worker.something.new", {"worker_id": "x"}))
    sim.broadcast(Outgoing("worker.terminated", {"worker_id": "x"}))
    await wait_for(lambda: sim.sent.get("worker.terminated") == 1)
    await wait_for(lambda: "worker.something.new" in caplog.text)
    assert caplog.text.count("worker.something.new") == 1
    assert "worker.terminated" not in caplog.text
    assert recorder.states()[-1] == "ok"


async def test_nothing_is_sent_when_the_audit_log_cannot_be_written(sim, tmp_path):
    backend = make_backend(sim, tmp_path)
    backend.audit.path = tmp_path / "not-a-dir" / "audit.jsonl"
    (tmp_path / "not-a-dir").write_text("a file where the folder should be")
    await backend.start()
    try:
        assert await backend.wait_initial_set(5)
        worker = sim.model.by_name("cml-busy-01")
        with pytest.raises(ActionRefused, match="not sent"):
            await backend.pause(worker.id)
        assert worker.status == "running" and "worker.paused" not in sim.sent
    finally:
        await backend.close()
