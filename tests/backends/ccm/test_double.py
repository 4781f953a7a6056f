"""The Cloud Manager test double behaves as upstream does, quirk by quirk.

Each test names the upstream file it follows (bvandewe/CML-Cloud-Manager at 89d60c8, under
`src/control-plane-api/`). Where a copy of upstream is on the machine (`CMLTUI_UPSTREAM_CCM`,
a git checkout or mirror), the quirks are checked against its text too.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from cmltui.backends.ccm.api import CCM_REGIONS
from cmltui.sim import ccm_shapes
from cmltui.sim.ccm_model import TRANSITION_S, CcmModel
from cmltui.sim.ccm_server import CcmSimulator

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# A git checkout (or bare mirror) of upstream; its quirks are then checked against its text.
MIRROR = Path(
    os.environ.get("CMLTUI_UPSTREAM_CCM", "/work/.mirror/bvandewe+CML-Cloud-Manager/repo")
)
API = "src/control-plane-api"


def _upstream(path: str) -> str | None:
    """An upstream file's text from the read-only mirror, when it is on this machine."""
    if not MIRROR.exists():
        return None
    result = subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"HEAD:{API}/{path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def _model(**kwargs) -> CcmModel:
    return CcmModel(12, 0, T0, **kwargs)



async def _call(sim: CcmSimulator, method: str, path: str, token: str | None) -> tuple[int, object]:
    context = ssl.create_default_context(cafile=str(sim.ca_file))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, sim.url + path, headers=headers, ssl=context) as response,
    ):
        return response.status, await response.json(content_type=None)


# --- api/dependencies.py, api/controllers/workers_controller.py ------------------------------


async def test_auth_a_token_without_the_admin_role_reads_but_gets_403_on_actions(sim):
    """`require_roles("admin")` guards start, stop and the idle-detection switches; reads need
    only a valid token (`get_current_user`); a token it does not know is 401."""
    viewer = sim.add_token(sub="viewer-1", roles=["user"])
    worker = sim.model.by_name("cml-busy-01")
    base = f"/api/workers/region/us-east-1/workers/{worker.id}"
    status, body = await _call(sim, "GET", "/api/workers/region/us-east-1/workers", viewer)
    assert status == 200 and isinstance(body, list) and len(body) == 12
    assert (await _call(sim, "GET", base + "/idle-status", viewer))[0] == 200
    for route in ("/stop", "/start", "/idle-detection/disable", "/idle-detection/enable"):
        status, body = await _call(sim, "POST", base + route, viewer)
        assert (status, body) == (403, {"detail": "Requires one of roles: admin"}), route
    assert worker.status == "running" and worker.idle_enabled is True  # nothing changed
    status, body = await _call(sim, "GET", base + "/idle-status", "not-a-token")
    assert status == 401 and isinstance(body, dict) and "detail" in body
    source = _upstream("api/dependencies.py")
    if source is not None:
        assert 'f"Requires one of roles: {' in source and "HTTP_403_FORBIDDEN" in source


async def test_region_outside_upstreams_enum_is_a_422_whose_detail_is_a_list(sim):
    """`integration/enums/aws_regions.py`: `AwsRegion` has us-east-1 and us-west-2 only; the
    path parameter is that enum, so FastAPI answers 422 with `detail` a list of problems."""
    status, body = await _call(sim, "GET", "/api/workers/region/eu-west-1/workers", sim.token)
    assert status == 422 and isinstance(body, dict)
    (problem,) = body["detail"]
    assert problem["loc"] == ["path", "aws_region"] and "us-east-1" in problem["msg"]
    assert (await _call(sim, "GET", "/api/workers/region/us-west-2/workers", sim.token)) == (
        200,
        [],
    )
    # The double's enum is upstream's, and the client refuses the same set at start.
    assert ccm_shapes.UPSTREAM_REGIONS == CCM_REGIONS
    source = _upstream("integration/enums/aws_regions.py")
    if source is not None:
        enum_values = {
            line.split("=")[1].split("#")[0].strip().strip('"')
            for line in source.splitlines()
            if line.strip().startswith("US_") and "=" in line
        }
        assert enum_values == set(CCM_REGIONS)


# --- application/commands/worker/stop_cml_worker_command.py, start_… ------------------------


def test_a_stop_sends_the_status_and_its_snapshot_before_worker_paused_and_no_user():
    """The handler updates the status, then records the pause, then saves: the status event's
    snapshot (read after the save) already shows the pause, and comes before `worker.paused`.
    The REST route passes no user, so `paused_by` is null."""
    model = _model()
    worker = model.by_name("cml-busy-01")
    events = model.stop(worker, None, T0)
    assert [e.type for e in events] == ["worker.status.updated", "worker.snapshot", "worker.paused"]
    snapshot, paused = events[1].data, events[2].data
    assert (snapshot["status"], snapshot["manual_pause_count"], snapshot["paused_by"]) == (
        "stopping",
        1,
        None,
    )
    assert paused["paused_by"] is None and paused["pause_reason"] == "manual"
    assert model.stop(worker, None, T0) == []  # already stopping: nothing, and no refusal
    resumed = model.start(model.by_name("cml-stopped-06"), None, T0)
    assert [e.type for e in resumed][-1] == "worker.resumed" and resumed[-1].data[
        "resumed_by"
    ] is None
    source = _upstream("application/commands/worker/stop_cml_worker_command.py")
    if source is not None:
        assert source.index("worker.update_status(CMLWorkerStatus.STOPPING)") < source.index(
            "worker.pause("
        )


def test_a_pending_worker_can_be_stopped_only_terminated_is_refused():
    """`stop_cml_worker_command.py` refuses only TERMINATED; stopped and stopping are no-ops."""
    model = _model()
    worker = model.by_name("cml-stopped-06")
    model.start(worker, None, T0)
    assert worker.status == "pending"
    assert [e.type for e in model.stop(worker, None, T0)][-1] == "worker.paused"
    worker.status = "terminated"
    with pytest.raises(ValueError, match="terminated"):
        model.stop(worker, None, T0)


def test_toggles_carry_the_tokens_sub_and_nothing_when_already_so():
    """`workers_controller.py` passes `current_user.get("sub")`; `enable_idle_detection_command.py`
    emits no event when it is already enabled."""
    model = _model()
    worker = model.by_name("cml-busy-01")
    answer, events = model.set_idle_detection(worker, True, "sub-1", T0)
    assert events == [] and answer["message"] == "Idle detection already enabled"
    _answer, (event,) = model.set_idle_detection(worker, False, "sub-1", T0)
    assert event.data["toggled_by"] == "sub-1" and event.data["toggled_at"].endswith("+00:00Z")


# --- domain/entities/cml_worker.py, application/mappers/cml_worker_mapper.py -----------------


def test_a_stopped_worker_keeps_its_licence_and_counts_zero_labs_and_no_version():
    """On STOPPED the state resets the metrics (`CMLMetrics()`: no version, `labs_count` 0) and
    the addresses, and keeps the licence; the mapper's `active_labs_count` is `labs_count`."""
    model = _model()
    stopped = model.snapshot(model.by_name("cml-stopped-06"), T0)
    assert stopped["cml_license_info"] and stopped["license_status"] == "registered"
    assert (stopped["cml_labs_count"], stopped["active_labs_count"]) == (0, 0)
    assert (stopped["cml_version"], stopped["cml_system_info"], stopped["https_endpoint"]) == (
        None,
        None,
        None,
    )
    running = model.snapshot(model.by_name("cml-busy-01"), T0)
    assert running["active_labs_count"] == running["cml_labs_count"] > 0
    for snapshot in (stopped, running):
        assert snapshot["target_pause_at"] is None and snapshot["next_idle_check_at"] is None
        assert snapshot["cml_uptime_seconds"] is None  # the CML sync passes None


def test_cml_system_info_has_upstreams_shape_computes_nested_under_stats():
    """`domain/value_objects/cml_metrics.py`: `CMLSystemInfo.to_dict()`."""
    model = _model()
    info = model.snapshot(model.by_name("cml-busy-01"), T0)["cml_system_info"]
    assert {"cpu_count", "cpu_utilization", "controller_disk_total", "computes"} <= set(info)
    assert "cpu_percent" not in info
    compute = next(iter(info["computes"].values()))
    assert set(compute) == {"hostname", "is_controller", "stats"}
    assert set(compute["stats"]) == {"cpu", "memory", "disk", "dominfo"}
    assert {"load", "count", "percent", "model", "predicted"} == set(compute["stats"]["cpu"])
    source = _upstream("domain/value_objects/cml_metrics.py")
    if source is not None:
        for key in ("controller_disk_total", "allocated_cpus", "running_nodes"):
            assert f"    {key}: int | None = None" in source


# --- application/commands/worker/detect_worker_idle_command.py ------------------------------


def test_activity_detection_sends_null_when_nothing_new_and_never_a_target_pause_at():
    """`UpdateWorkerActivityCommand` gets `latest_activity_at` (None when nothing new) and
    `next_check_at=None`, `target_pause_at=None`; the state keeps the old last activity."""
    model = _model()
    worker = model.by_name("cml-idle-03")
    before = worker.last_activity_at
    (quiet,) = model.detect_activity(worker, T0 + timedelta(minutes=1))
    assert quiet.type == "worker.activity.updated" and quiet.data["last_activity_at"] is None
    assert quiet.data["target_pause_at"] is None and quiet.data["next_idle_check_at"] is None
    assert worker.last_activity_at == before  # kept, as the handler keeps it
    model.user_activity(worker, T0 + timedelta(minutes=2))
    (busy,) = model.detect_activity(worker, T0 + timedelta(minutes=3))
    assert busy.data["last_activity_at"].startswith("2026-03-02T09:02:00")
    source = _upstream("domain/entities/cml_worker.py")
    if source is not None:
        assert "if event.last_activity_at is not None:" in source


def test_an_auto_pause_gives_a_sentence_as_reason_by_system_counted_as_manual():
    """`detect_worker_idle_command.py` pauses with reason "Auto-paused after … minutes idle";
    `pause_worker_command.py` passes "system"; `CMLWorker.pause` counts it as manual, since only
    "idle_timeout" is counted as automatic."""
    model = _model(auto_pause=True)
    worker = model.by_name("cml-idle-03")
    events = model.detect_activity(worker, T0)
    paused = events[-1]
    assert paused.type == "worker.paused" and paused.data["paused_by"] == "system"
    assert paused.data["pause_reason"].startswith("Auto-paused after 180.0 minutes idle")
    assert (paused.data["auto_pause_count"], paused.data["manual_pause_count"]) == (0, 1)


def test_idle_status_is_upstreams_verdict_with_its_fallbacks():
    """`get_worker_idle_status_query.py` with `idle_detection_service.py`: `is_idle` falls back
    to the last resume, then the creation; `idle_minutes` is null without activity;
    `snooze_until` is the last resume itself."""
    model = _model()
    idle = model.idle_status(model.by_name("cml-idle-03"), T0)
    assert (idle["is_idle"], round(idle["idle_minutes"]), idle["eligible_for_pause"]) == (
        True,
        180,
        True,
    )
    snoozing = model.by_name("cml-snooze-04")
    status = model.idle_status(snoozing, T0)
    assert status["in_snooze_period"] is True and status["eligible_for_pause"] is False
    assert status["snooze_until"] == snoozing.last_resumed_at.isoformat()
    never = model.by_name("cml-busy-01")
    never.last_activity_at = None
    status = model.idle_status(never, T0)
    assert status["idle_minutes"] is None and isinstance(status["is_idle"], bool)


# --- application/events/domain/cml_worker_events.py -----------------------------------------


def test_metrics_come_in_two_forms_and_only_the_telemetry_one_is_followed_by_a_snapshot():
    """`CMLMetricsUpdatedDomainEventHandler` (no snapshot since upstream removed it) carries
    `labs_count` and `cml_version`; `CMLWorkerTelemetryUpdatedDomainEventHandler` carries
    `active_labs_count` (every lab) and `last_activity_at` (the collection time), and a snapshot
    follows it."""
    model = _model()
    worker = model.by_name("cml-busy-01")
    cml = model.cml_metrics(worker, T0)
    assert cml.source == "domain.cml_worker.cml_metrics"
    assert {"labs_count", "cml_version"} <= set(cml.data) and "active_labs_count" not in cml.data
    telemetry = model.telemetry(worker, T0 + timedelta(minutes=5))
    assert [e.type for e in telemetry] == ["worker.metrics.updated", "worker.snapshot"]
    assert telemetry[0].data["active_labs_count"] == len(worker.labs)
    assert telemetry[0].data["last_activity_at"].startswith("2026-03-02T09:05:00")
    source = _upstream("application/events/domain/cml_worker_events.py")
    if source is not None:
        assert "# Note: Snapshot broadcast removed" in source


# --- application/events/domain/lab_record_events.py, get_worker_labs_query.py --------------


async def test_labs_route_and_events_as_upstream_serves_them(sim):
    """The labs route serves the recorded labs (`owner` the full name, `owner_username` the
    login); a state change sends `state_changed` then `updated`, and no snapshot."""
    worker = sim.model.by_name("cml-labs-02")
    path = f"/api/labs/region/us-east-1/workers/{worker.id}/labs"
    status, body = await _call(sim, "GET", path, sim.token)
    assert status == 200 and isinstance(body, list) and len(body) == len(worker.labs)
    first = body[0]
    assert {"id", "title", "state", "owner", "owner_username", "node_count"} <= set(first)
    assert first["owner"] != first["owner_username"]
    status, body = await _call(sim, "GET", path.replace(worker.id, "nope"), sim.token)
    assert status == 400  # the query answers bad_request for an unknown worker
    events = sim.model.set_lab_state(worker, first["id"], "STOPPED", T0)
    if first["state"] == "STOPPED":
        events = sim.model.set_lab_state(worker, first["id"], "STARTED", T0)
    assert [e.data["action"] for e in events] == ["state_changed", "updated"]
    assert {e.type for e in events} == {"worker.labs.updated"}


# --- application/events/domain/cml_worker_license_events.py ---------------------------------


def test_licence_events_are_upstreams_four_and_the_ends_are_followed_by_a_snapshot():
    model = _model()
    worker = model.by_name("cml-unreg-12")
    ok = model.licence_registration(worker, "sub-1", T0)
    assert [e.type for e in ok] == [
        "worker.license.registration.started",
        "worker.license.registration.completed",
        "worker.snapshot",
    ]
    failed = model.licence_registration(worker, None, T0, error="Smart account unreachable")
    assert failed[1].type == "worker.license.registration.failed"
    assert failed[1].data["error_message"] == "Smart account unreachable"
    source = _upstream("application/events/domain/cml_worker_license_events.py")
    if source is not None:
        assert "worker.license.updated" not in source  # no such event upstream
        for kind in ("registration.started", "registration.completed", "deregistered"):
            assert f'"worker.license.{kind}"' in source


def test_a_deregistration_job_ends_as_cml_metrics_alone():
    """`license_deregistration_job.py`: its domain events have no SSE handler; its success
    sends `update_cml_metrics`'s `worker.metrics.updated`, with no licence and no snapshot."""
    model = _model()
    worker = model.by_name("cml-busy-01")
    assert worker.licence == "registered"
    done = model.licence_deregistered(worker, T0 + timedelta(seconds=30))
    assert done.type == "worker.metrics.updated"
    assert not any("licen" in key for key in done.data)
    snapshot = model.snapshot(worker, T0 + timedelta(seconds=31))
    assert snapshot["license_status"] == "unregistered"
    assert snapshot["cml_license_info"]["registration"]["status"] == "NOT_REGISTERED"
    source = _upstream("application/events/domain/cml_worker_license_events.py")
    if source is not None:
        for kind in ("Started", "Completed", "Failed"):
            assert f"LicenseDeregistration{kind}" not in source  # no handler for any of them
    job = _upstream("application/jobs/license_deregistration_job.py")
    if job is not None:
        assert "worker.update_cml_metrics(" in job and "deregister_license()" in job


async def test_a_deregistration_is_202_for_any_known_worker_and_only_a_success_is_heard(
    sim, monkeypatch
):
    """`DeregisterCMLWorkerLicenseCommand` checks only that the worker exists; the job fails
    without a word on a worker with no endpoint or no registration (CML's 400)."""
    sim.licence_poll_s = 0.05
    heard: list = []
    emit = sim.emit
    monkeypatch.setattr(sim, "emit", lambda events: (heard.extend(events), emit(events)))
    base = "/api/workers/region/us-east-1/workers/{}/license"
    unknown = await _call(sim, "DELETE", base.format("nope"), sim.token)
    assert unknown[0] == 404
    registered = sim.model.by_name("cml-busy-01")
    unregistered = sim.model.by_name("cml-unreg-12")
    stopped = next(w for w in sim.model.workers.values() if w.status == "stopped")
    stopped.licence = "registered"
    for worker in (stopped, unregistered, registered):
        status, body = await _call(sim, "DELETE", base.format(worker.id), sim.token)
        assert status == 202 and isinstance(body, dict), worker.spec.name
        assert (body["message"], body["status"]) == ("License deregistration initiated", "pending")
        assert body["job_id"].startswith(f"license_dereg_{worker.id}_")
    for _ in range(200):
        if registered.licence == "unregistered":
            break
        await asyncio.sleep(0.02)
    assert registered.licence == "unregistered"
    assert stopped.licence == "registered"  # no endpoint: failed, and nothing changed
    assert [(e.type, e.data["worker_id"]) for e in heard] == [
        ("worker.metrics.updated", registered.id)  # the one success, as CML metrics alone
    ]


# --- api/controllers/events_controller.py ----------------------------------------------------


async def test_event_error_is_a_bare_object_and_ends_the_stream(sim):
    context = ssl.create_default_context(cafile=str(sim.ca_file))
    headers = {"Authorization": f"Bearer {sim.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(sim.url + "/api/events/stream", headers=headers, ssl=context) as response,
    ):
        assert (await response.content.readuntil(b"\n\n")).startswith(b"event: connected")
        sim.error_event("database unavailable")
        text = (await response.content.read()).decode()
    frames = [f for f in text.split("\n\n") if f.startswith("event: error")]
    assert len(frames) == 1
    assert json.loads(frames[0].split("data: ", 1)[1]) == {"error": "database unavailable"}
    source = _upstream("api/controllers/events_controller.py")
    if source is not None:
        assert "yield f\"event: error\\ndata: {json.dumps({'error': str(e)})}\\n\\n\"" in source


def test_transitions_finish_after_the_simulated_delay():
    model = _model()
    worker = model.by_name("cml-busy-01")
    model.stop(worker, None, T0)
    events = model.advance(T0 + timedelta(seconds=TRANSITION_S))
    assert worker.status == "stopped" and worker.synced_at is None
    assert [e.data.get("new_status") for e in events if e.type == "worker.status.updated"] == [
        "stopped"
    ]
