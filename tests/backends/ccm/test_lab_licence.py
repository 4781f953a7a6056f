"""Lab and licence operations through the Cloud Manager double: upstream's routes and events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from cmltui.api.backend import ActionFailed, ActionRefused
from cmltui.api.events import LabChanged, LicenceChanged
from cmltui.backends.ccm.operations import ACCEPTED
from cmltui.domain.enums import LicenseStatus
from cmltui.sim import ccm_lab_licence
from cmltui.sim.ccm_server import CcmSimulator
from tests.backends.ccm.ccm_helpers import (
    ccm_config,
    make_backend,
    running_simulator,
    wait_for,
)

pytestmark = pytest.mark.asyncio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[CcmSimulator]:
    async with running_simulator(licence_poll_s=0.05) as simulator:
        yield simulator


@pytest_asyncio.fixture
async def ready(sim, tmp_path):
    backend = make_backend(sim, tmp_path)
    published = []
    backend.subscribe_activity(published.append)
    try:
        snapshot = await backend.prepare_actions()
        assert backend._connected  # the stream is up: Cloud Manager's events come back
        yield backend, {dto.name: dto for dto in snapshot.workers}, published
    finally:
        await backend.close()


def audit(tmp_path):
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


async def test_a_lab_stop_posts_upstreams_lab_route_and_is_audited(ready, sim, tmp_path):
    backend, fleet, published = ready
    worker = fleet["cml-busy-01"]
    lab = next(lab for lab in worker.labs if lab.state == "STARTED")
    event = await backend.lab_action(worker.id, lab.id, "stop")
    assert isinstance(event, LabChanged) and (event.lab_id, event.action) == (lab.id, "stop")
    assert event.lab_title == lab.title  # as Cloud Manager's lab list names it
    assert sim.lab_licence.lab_calls == [(worker.id, lab.id, "stop")]
    assert sim.model.workers[worker.id].labs[lab.id].state == "STOPPED"
    assert event in published
    lines = audit(tmp_path)
    assert [(a["action"], a["result"]) for a in lines] == [
        ("stop_lab", "intent"),
        ("stop_lab", "ok"),
    ]
    assert (lines[0]["detail"]["lab_id"], lines[0]["detail"]["lab_title"]) == (lab.id, lab.title)
    # the double's `worker.labs.updated` reaches the backend: the labs shown follow
    shown: dict[str, str] = {}
    for _ in range(100):
        dto = next(d for d in backend.publish().workers if d.id == worker.id)
        shown = {item.id: item.state for item in dto.labs or []}
        if shown.get(lab.id) == "STOPPED":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the lab never read STOPPED: {shown}")


async def test_the_rule_sees_the_lab_as_cloud_manager_lists_it(ready, sim, tmp_path):
    """A running lab is not wiped: refused before anything is sent or audited, as on AWS."""
    backend, fleet, _published = ready
    worker = fleet["cml-busy-01"]
    lab = next(lab for lab in worker.labs if lab.state == "STARTED")
    with pytest.raises(ActionRefused, match=f"lab {lab.title} is running"):
        await backend.lab_action(worker.id, lab.id, "wipe")
    assert sim.lab_licence.lab_calls == []
    assert not (tmp_path / "audit.jsonl").exists() or audit(tmp_path) == []


async def test_a_lab_cml_does_not_have_is_refused_with_upstreams_answer(ready, sim, tmp_path):
    backend, fleet, _published = ready
    worker = fleet["cml-busy-01"]
    with pytest.raises(ActionRefused, match=r"stop lab refused: .*400.*Failed to stop lab nope"):
        await backend.lab_action(worker.id, "nope", "stop")
    assert [a["result"] for a in audit(tmp_path)] == ["intent", "refused"]


async def test_a_stopped_worker_and_read_only_are_refused_before_anything_is_sent(sim, tmp_path):
    backend = make_backend(sim, tmp_path, config=ccm_config(sim, read_only=True))
    try:
        fleet = {dto.name: dto for dto in (await backend.prepare_actions()).workers}
        with pytest.raises(ActionRefused, match="read-only mode: wipe lab not sent"):
            await backend.lab_action(fleet["cml-busy-01"].id, "lab-1", "wipe")
    finally:
        await backend.close()
    backend = make_backend(sim, tmp_path)
    try:
        fleet = {dto.name: dto for dto in (await backend.prepare_actions()).workers}
        with pytest.raises(ActionRefused, match="is stopped; only a running worker's CML"):
            await backend.register_licence(fleet["cml-stopped-06"].id, "T0ken")
    finally:
        await backend.close()
    assert sim.lab_licence.lab_calls == []


async def test_a_registration_waits_for_the_jobs_completion(ready, sim, tmp_path):
    backend, fleet, published = ready
    worker = fleet["cml-unreg-12"]
    assert worker.license_status == "unregistered"
    token = "T0ken-Q8fz"
    done = await backend.register_licence(worker.id, token)
    assert (done.step, done.detail) == ("registration completed", "COMPLETED")
    licence = [(e.step, e.by) for e in published if isinstance(e, LicenceChanged)]
    assert licence == [  # who asked, as Cloud Manager names the token's user, on both
        ("registration started", "ccm-sim-user"),
        ("registration completed", "ccm-sim-user"),
    ]
    assert done.by == "ccm-sim-user"
    assert sim.model.workers[worker.id].licence == "registered"
    assert token not in (tmp_path / "audit.jsonl").read_text()
    assert [a["result"] for a in audit(tmp_path)] == ["intent", "ok"]


REFUSED = "Invalid license token: Invalid registration token '***': it was not accepted."
"""Upstream's words around CML's (which repeat the token), as cmltui shows them."""


async def test_a_bad_token_fails_with_the_reason_in_plain_words_and_the_token_cut_out(
    ready, sim, tmp_path
):
    backend, fleet, published = ready
    worker = fleet["cml-unreg-12"]
    token = "bad-Xy7Qz"
    with pytest.raises(ActionFailed) as failed:
        await backend.register_licence(worker.id, token)
    assert str(failed.value) == f"cml-unreg-12: register licence failed: {REFUSED}"
    licence = [e for e in published if isinstance(e, LicenceChanged)]
    assert [e.step for e in licence] == ["registration started", "registration failed"]
    assert licence[1].detail == REFUSED  # the event shown says the same
    assert [e.by for e in licence] == ["ccm-sim-user", "ccm-sim-user"]
    assert token not in (tmp_path / "audit.jsonl").read_text()


async def test_no_piece_of_a_long_token_is_shown_by_the_sender_or_a_watcher(ready, sim, tmp_path):
    """A 256-character token (the most CML takes) inside Cloud Manager's failure message: the
    message is shortened for the screen, and no part of the token may survive that, neither
    for the cmltui that sends it nor for another one watching the same Cloud Manager."""
    backend, fleet, published = ready
    token = ("bad-" + "Q8fz" * 70)[:256]
    watcher = make_backend(sim, tmp_path / "watcher")
    seen: list[LicenceChanged] = []
    watcher.subscribe_activity(lambda e: seen.append(e) if isinstance(e, LicenceChanged) else 0)
    try:
        await watcher.prepare_actions()
        with pytest.raises(ActionFailed) as failed:
            await backend.register_licence(fleet["cml-unreg-12"].id, token)
        await _failure_seen(seen)
        _no_piece_of(token, str(failed.value), published, seen, tmp_path)
        (watched,) = [e for e in seen if e.step == "registration failed"]
        assert watched.detail == REFUSED  # the watcher never knew the token
    finally:
        await watcher.close()


async def test_a_token_repeated_without_quotes_is_cut_whole_for_the_sender(
    ready, sim, tmp_path, monkeypatch
):
    """A Cloud Manager whose message repeats the token bare: only the sender knows it is one,
    and cuts it before the message is shortened."""
    backend, fleet, published = ready
    token = ("bad-" + "Q8fz" * 70)[:256]
    monkeypatch.setattr(
        ccm_lab_licence, "_cml_refusal", lambda *_a: f"Smart Licensing refused {token} outright."
    )
    with pytest.raises(ActionFailed) as failed:
        await backend.register_licence(fleet["cml-unreg-12"].id, token)
    _no_piece_of(token, str(failed.value), published, [], tmp_path)
    assert str(failed.value).endswith(
        "register licence failed: Smart Licensing refused *** outright."
    )


async def _failure_seen(seen: list[LicenceChanged]) -> None:
    for _ in range(100):
        if any(e.step == "registration failed" for e in seen):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the watcher never saw the failure")


def _no_piece_of(token: str, message: str, published, seen, tmp_path) -> None:
    texts = [
        message,
        json.dumps([e.to_dict() for e in [*published, *seen]], default=str),
        (tmp_path / "audit.jsonl").read_text(),
    ]
    pieces = {token[i : i + 12] for i in range(len(token) - 12)}
    for text in texts:
        assert not any(piece in text for piece in pieces), text


def _licence_shown(backend, worker_id: str) -> LicenseStatus | None:
    return next(d for d in backend.publish().workers if d.id == worker_id).license_status


async def test_deregistration_is_accepted_at_once_and_a_stale_snapshot_does_not_undo_it(
    ready, sim
):
    """Upstream's job broadcasts no licence event, so the 202 is the answer: shown at once as
    accepted, its "unregistered" held against a snapshot from before the job's end."""
    backend, fleet, published = ready
    worker = fleet["cml-busy-01"]
    assert worker.license_status is LicenseStatus.REGISTERED
    sim.licence_poll_s = 3600.0  # CML's DELETE still under way for the whole test
    model_worker = sim.model.workers[worker.id]
    stale = sim.model.snapshot_event(model_worker, sim.clock.now(), "telemetry_updated")
    event = await backend.deregister_licence(worker.id)
    assert (event.step, event.by, event.detail) == ("deregistered", "tester", ACCEPTED)
    assert published.count(event) == 1
    assert model_worker.licence == "registered"  # the job has not ended: nothing waited for it
    assert _licence_shown(backend, worker.id) is LicenseStatus.UNREGISTERED
    with pytest.raises(ActionRefused, match="no registered licence; nothing to deregister"):
        await backend.deregister_licence(worker.id)  # as shown: not sent again
    assert sim.lab_licence.deregistrations == 1
    stale.data["cml_uptime_seconds"] = 4242  # to see it arrive; it still says "registered"
    sim.emit([stale])
    await wait_for(
        lambda: backend.fleet.entries[worker.id].payload.get("cml_uptime_seconds") == 4242
    )
    assert backend.fleet.entries[worker.id].payload["license_status"] == "registered"
    assert _licence_shown(backend, worker.id) is LicenseStatus.UNREGISTERED
    # Once the settle window is over, a snapshot that still disagrees wins (a job that failed
    # says so nowhere else).
    sim.clock.advance(backend.config.idle.settle_seconds + 1)
    stale.data["cml_uptime_seconds"] = 4343
    sim.emit([stale])
    await wait_for(
        lambda: backend.fleet.entries[worker.id].payload.get("cml_uptime_seconds") == 4343
    )
    assert _licence_shown(backend, worker.id) is LicenseStatus.REGISTERED


async def test_a_deregistration_job_sends_only_cml_metrics_and_a_later_snapshot_agrees(
    ready, sim
):
    backend, fleet, _published = ready
    worker = fleet["cml-busy-01"]
    await backend.deregister_licence(worker.id)
    model_worker = sim.model.workers[worker.id]
    await wait_for(lambda: model_worker.licence == "unregistered")
    await wait_for(lambda: sim.sent.get("worker.metrics.updated", 0) >= 1)
    assert "worker.license.deregistered" not in sim.sent  # upstream never sends it
    assert model_worker.licence_info["registration"]["status"] == "NOT_REGISTERED"
    assert backend.fleet.held[worker.id]["license_status"].value is LicenseStatus.UNREGISTERED
    sim.emit(sim.model.telemetry(model_worker, sim.clock.now()))  # the next snapshot
    await wait_for(
        lambda: backend.fleet.entries[worker.id].payload["license_status"] == "unregistered"
    )
    assert _licence_shown(backend, worker.id) is LicenseStatus.UNREGISTERED
    assert "license_status" not in backend.fleet.held.get(worker.id, {})  # confirmed: let go


async def test_dry_run_names_upstreams_routes(ready):
    backend, fleet, _published = ready
    worker = fleet["cml-busy-01"]
    text = backend.request_text("stop_lab", worker.id, lab_id="abc")
    assert text == (
        f"Cloud Manager POST /api/labs/region/us-east-1/workers/{worker.id}/labs/abc/stop"
    )
    text = backend.request_text("toggle_idle_detection", worker.id, enable=False)
    assert text.endswith(f"/workers/{worker.id}/idle-detection/disable")
    text = backend.request_text("register_licence", worker.id)
    assert text.startswith("Cloud Manager POST /api/workers/region/us-east-1/workers/")
    assert text.endswith("/license (the token in the body only)")
