"""The Cloud Manager source reads upstream's events and routes as upstream means them.

Against the test double (over HTTPS on 127.0.0.1), whose every behaviour follows upstream's
code; each test names the upstream file whose meaning it checks (under `src/control-plane-api/`
of bvandewe/CML-Cloud-Manager at 89d60c8).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cmltui.api.backend import ActionRefused
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import LicenceChanged
from cmltui.backends.ccm.api import problem_text
from cmltui.backends.ccm.backend import CcmBackend
from cmltui.clock import ManualClock
from cmltui.config import Config, ConfigError
from cmltui.sim.ccm_model import TRANSITION_S
from cmltui.sim.ccm_server import CcmSimulator

from .ccm_helpers import ccm_config, make_backend, wait_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)





def _dto(backend: CcmBackend, name: str) -> CMLWorkerDto:
    return next(d for d in backend.publish().workers if d.name == name)


def _clock(sim: CcmSimulator) -> ManualClock:
    assert isinstance(sim.clock, ManualClock)
    return sim.clock


# --- idle: get_worker_idle_status_query.py ----------------------------------------------------


async def test_a_worker_idle_for_three_hours_reads_idle_from_cloud_managers_verdict(live, sim):
    """Upstream never sets `target_pause_at`; its verdict comes from `…/idle-status`."""
    backend, _ = live
    idle = _dto(backend, "cml-idle-03")
    assert idle.target_pause_at is None
    assert (idle.idle_state, idle.is_idle, idle.eligible_for_auto_pause) == ("idle", True, True)
    assert idle.idle_minutes is not None and 179 <= idle.idle_minutes <= 181
    states = {d.name: d.idle_state for d in backend.publish().workers}
    assert states["cml-busy-01"] == "active"
    assert states["cml-snooze-04"] == "snooze"  # resumed 20 minutes ago
    assert states["cml-labs-02"] == "off" and states["cml-stopped-06"] is None
    running_on = [w for w in sim.model.workers.values() if w.status == "running" and w.idle_enabled]
    # Read only for running workers with detection on, once each so far.
    assert sim.requests["idle-status"] == len(running_on)


async def test_the_verdict_is_read_again_after_a_toggle_or_an_activity_event(live, sim):
    backend, _ = live
    worker = sim.model.by_name("cml-labs-02")  # detection off: never asked
    reads = sim.requests["idle-status"]
    await backend.toggle_idle_detection(worker.id, False)
    await wait_for(lambda: sim.requests["idle-status"] == reads + 1)
    assert _dto(backend, "cml-labs-02").idle_state == "active"
    busy = sim.model.by_name("cml-busy-01")
    sim.model.user_activity(busy, T0)
    sim.emit(sim.model.detect_activity(busy, T0 + timedelta(seconds=1)))
    await wait_for(lambda: sim.requests["idle-status"] == reads + 2)


async def test_a_null_last_activity_means_keep_not_blank(live, sim):
    """`domain/entities/cml_worker.py` (`WorkerActivityUpdatedDomainEvent`): a null
    `last_activity_at` keeps the old value; the next snapshot shows the same."""
    backend, recorder = live
    worker = sim.model.by_name("cml-idle-03")
    shown = _dto(backend, "cml-idle-03").last_activity_at
    assert shown is not None
    clock = _clock(sim)
    clock.advance(60)
    sim.emit(sim.model.detect_activity(worker, clock.now()))
    await wait_for(lambda: any(getattr(e, "worker_id", "") == worker.id for e in recorder.activity))
    after = _dto(backend, "cml-idle-03")
    assert after.last_activity_at == shown and after.last_activity_check_at == clock.now()
    clock.advance(60)
    sim.emit(sim.model.telemetry(worker, clock.now()))  # then a snapshot, as upstream sends
    await wait_for(lambda: backend.applied[worker.id] == 2)
    assert _dto(backend, "cml-idle-03").last_activity_at == shown


async def test_the_telemetry_metrics_time_is_not_activity_and_both_forms_apply(live, sim):
    """`collect_worker_cloudwatch_metrics_command.py` stamps `last_activity_at` with the
    collection time (upstream's state ignores it); the CML form carries `labs_count`."""
    backend, _ = live
    worker = sim.model.by_name("cml-idle-03")
    clock = _clock(sim)
    clock.advance(30)
    telemetry, _snapshot = sim.model.telemetry(worker, clock.now())
    sim.emit([telemetry])  # the event alone: its snapshot held back
    await wait_for(lambda: sim.sent.get("worker.metrics.updated") == 1)
    dto = _dto(backend, "cml-idle-03")
    assert dto.idle_state == "idle" and dto.last_activity_at is not None
    assert dto.last_activity_at < T0 - timedelta(hours=2)
    worker.labs.popitem()  # a lab deleted on CML: the next sync says so
    clock.advance(30)
    sim.emit([sim.model.cml_metrics(worker, clock.now())])
    await wait_for(lambda: _dto(backend, "cml-idle-03").cml_labs_count == len(worker.labs))
    assert _dto(backend, "cml-idle-03").cpu_utilization == worker.cpu


# --- labs: get_worker_labs_query.py, lab_record_events.py -------------------------------------


async def test_labs_come_from_the_labs_route_and_events_and_count_started_ones(live, sim):
    backend, _ = live
    worker = sim.model.by_name("cml-labs-02")
    dto = _dto(backend, "cml-labs-02")
    assert dto.labs is not None and len(dto.labs) == len(worker.labs) == 15
    started = sum(1 for lab in worker.labs.values() if lab.state == "STARTED")
    # STARTED labs, not upstream's alias of every lab.
    assert dto.active_labs_count == started < dto.cml_labs_count
    assert {lab.owner for lab in dto.labs} <= {"alice", "bob", "carol"}  # the login
    assert "labs" in dto.fact_ages_seconds
    lab = next(lab for lab in worker.labs.values() if lab.state == "STARTED")
    reads = sim.requests["labs"]
    sim.emit(sim.model.set_lab_state(worker, lab.lab_id, "STOPPED", T0))
    await wait_for(lambda: sim.requests["labs"] == reads + 1)  # the list read again at once
    after = _dto(backend, "cml-labs-02")
    assert after.active_labs_count == started - 1
    assert next(x for x in after.labs or [] if x.id == lab.lab_id).state == "STOPPED"
    assert _dto(backend, "cml-stopped-06").labs is None  # not running: not read, as on AWS


# --- auth: api/dependencies.py ---------------------------------------------------------------


async def test_a_token_without_the_admin_role_is_told_so_and_nothing_changes(sim, tmp_path):
    viewer = sim.add_token(sub="viewer-1", roles=["user"])
    backend = make_backend(sim, tmp_path, env={"TEST_CCM_TOKEN": viewer})
    await backend.start()
    try:
        assert await backend.wait_initial_set(5)
        worker = sim.model.by_name("cml-busy-01")
        with pytest.raises(ActionRefused, match="the token lacks Cloud Manager's admin role"):
            await backend.pause(worker.id)
        assert worker.status == "running" and "worker.paused" not in sim.sent
        assert _dto(backend, "cml-busy-01").status.value == "running"
        lines = [json.loads(x) for x in backend.audit.path.read_text().splitlines()]
        assert [line["result"] for line in lines] == ["intent", "refused"]
        assert "admin role" in lines[-1]["error"]
    finally:
        await backend.close()


def test_a_422_shows_the_field_and_the_message_of_fastapis_list():
    body = {
        "detail": [
            {
                "type": "enum",
                "loc": ["path", "aws_region"],
                "msg": "Input should be 'us-east-1' or 'us-west-2'",
                "input": "eu-west-1",
            }
        ]
    }
    assert problem_text(body) == "path.aws_region: Input should be 'us-east-1' or 'us-west-2'"
    assert problem_text({"detail": [{"loc": "x"}, 5]}) == "no detail"
    assert problem_text({"detail": [{"msg": "\x1b]0;owned\x07bad"}]}) == "␛]0;owned␇bad"


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ({"regions": ["eu-west-1"]}, "source.regions"),
        ({}, "aws.regions (the default of source.regions)"),
    ],
)
def test_a_region_outside_upstreams_enum_is_refused_at_start_naming_the_key(source, key):
    data = {
        "source": {"kind": "ccm", "url": "https://ccm.example.org", **source},
        "aws": {"regions": ["eu-west-1"]},
    }
    with pytest.raises(ConfigError) as refused:
        CcmBackend(Config.model_validate(data), env={})
    assert str(refused.value).startswith(key + ": eu-west-1 not served by Cloud Manager")
    assert "\n" not in str(refused.value)


# --- kept while stopped: domain/entities/cml_worker.py (STOPPED resets CMLMetrics) ------------


async def test_the_version_and_licence_stay_with_their_age_while_stopped(live, sim):
    backend, _ = live
    clock = _clock(sim)
    worker = sim.model.by_name("cml-busy-01")
    version = worker.spec.cml_version
    await backend.pause(worker.id)
    clock.advance(TRANSITION_S + 120)
    sim.emit(sim.model.advance(clock.now()))
    await wait_for(lambda: _dto(backend, "cml-busy-01").status.value == "stopped")
    payload = backend.fleet.entries[worker.id].payload
    assert payload["cml_version"] is None  # Cloud Manager blanked it...
    dto = _dto(backend, "cml-busy-01")
    assert dto.cml_version == version  # ...cmltui keeps it, with its age
    assert dto.fact_ages_seconds["cml_version"] >= 120
    assert dto.cml_license_info and "cml_license_info" in dto.fact_ages_seconds
    assert dto.cml_labs_count is None and dto.active_labs_count is None and dto.labs is None
    # A deregistered licence is not kept.
    sim.emit(sim.model.legacy_licence_deregistered(worker, "sub-1", clock.now()))
    await wait_for(lambda: _dto(backend, "cml-busy-01").cml_license_info is None)


# --- licence events: cml_worker_license_events.py ---------------------------------------------


async def test_licence_events_reach_the_activity_channel(live, sim):
    _backend, recorder = live
    worker = sim.model.by_name("cml-unreg-12")
    sim.emit(sim.model.licence_registration(worker, "sub-1", T0))
    sim.emit(sim.model.licence_registration(worker, None, T0, error="smart account \x1b[31mno"))
    await wait_for(
        lambda: len([e for e in recorder.activity if isinstance(e, LicenceChanged)]) == 4
    )
    licence = [e for e in recorder.activity if isinstance(e, LicenceChanged)]
    assert [e.step for e in licence] == [
        "registration started",
        "registration completed",
        "registration started",
        "registration failed",
    ]
    assert licence[0].by == "sub-1" and licence[1].detail == "COMPLETED"
    assert licence[3].detail == "smart account ␛[31mno"  # outside text made visible
    assert all(e.at == T0 for e in licence)
    # Upstream's job ends name no one: who started that job did it (its start names them, or
    # "system" when upstream had no user)
    assert [e.by for e in licence] == ["sub-1", "sub-1", "system", "system"]


async def test_a_licence_event_that_names_no_one_says_cloud_manager(live, sim):
    """An end whose start cmltui did not see (it connected in between) names Cloud Manager,
    never no one; a deregistration names who asked, as upstream sends it."""
    _backend, recorder = live
    worker = sim.model.by_name("cml-unreg-12")
    (failed, _snapshot) = sim.model.licence_ended(worker, T0, error="Smart account unreachable")
    sim.emit([failed])
    sim.emit(sim.model.legacy_licence_deregistered(sim.model.by_name("cml-busy-01"), "sub-2", T0))
    await wait_for(
        lambda: len([e for e in recorder.activity if isinstance(e, LicenceChanged)]) == 2
    )
    ended, gone = [e for e in recorder.activity if isinstance(e, LicenceChanged)]
    assert (ended.step, ended.by) == ("registration failed", "Cloud Manager")
    assert (gone.step, gone.by) == ("deregistered", "sub-2")


# --- event: error (events_controller.py) ------------------------------------------------------


async def test_an_error_frame_is_shown_as_the_sources_error(live, sim):
    _backend, recorder = live
    sim.error_event("Failed to load workers: \x1b]0;x\x07timeout")
    await wait_for(
        lambda: any("Cloud Manager error" in (s.detail or "") for s in recorder.statuses)
    )
    status = next(s for s in recorder.statuses if "Cloud Manager error" in (s.detail or ""))
    assert status.state == "reconnecting"
    assert status.detail == "Cloud Manager error: Failed to load workers: ␛]0;x␇timeout"
    await wait_for(lambda: recorder.states()[-1] == "ok")  # and it connects again


# --- the auto-pause (detect_worker_idle_command.py, pause_worker_command.py) ------------------


async def test_an_auto_pause_reads_as_idle_timeout_by_system(live, sim):
    backend, recorder = live
    sim.model.auto_pause = True
    worker = sim.model.by_name("cml-idle-03")
    sim.emit(sim.model.detect_activity(worker, T0 + timedelta(seconds=1)))
    await wait_for(lambda: _dto(backend, "cml-idle-03").status.value == "stopping")
    dto = _dto(backend, "cml-idle-03")
    assert (dto.pause_reason, dto.paused_by) == ("idle_timeout", "system")
    paused = [e for e in recorder.activity if getattr(e, "type", "") == "worker.paused"]
    assert paused and paused[-1].pause_reason == "idle_timeout"


async def test_snapshot_once_reads_the_verdicts_and_labs(sim, tmp_path):
    """`cmltui snapshot --ccm`: one pass, with the verdict and labs of each running worker."""
    backend = make_backend(sim, tmp_path, config=ccm_config(sim))
    try:
        snapshot = await backend.snapshot_once()
    finally:
        await backend.close()
    by_name = {d.name: d for d in snapshot.workers}
    assert by_name["cml-idle-03"].idle_state == "idle"
    assert by_name["cml-labs-02"].labs and by_name["cml-busy-01"].active_labs_count is not None
