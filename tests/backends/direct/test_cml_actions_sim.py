"""Lab and licence actions of the direct backend against the simulated fleet (real HTTPS CML)."""

from __future__ import annotations

import asyncio
import json

import pytest

from cmltui.api.backend import ActionFailed, ActionRefused
from cmltui.api.events import LabChanged, LicenceChanged
from cmltui.sim.cml_licence import REGISTRATION_S
from tests.backends.direct.sim_core import make_core
from tests.worker_lookup import by_name

pytestmark = pytest.mark.asyncio(loop_scope="module")


def audit_lines(tmp_path):
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


def telemetry(fleet, name):
    return [(e.category, e.data.get("lab_id")) for e in fleet.worker(name).model.events]


async def test_a_lab_stop_reaches_cml_is_read_again_and_audited(fleet, tmp_path):
    name = "cml-idle-03"
    sim = fleet.worker(name)
    lab = sim.model.labs[0]
    core = make_core(fleet, tmp_path)
    published = []
    core.activity.add(published.append)
    try:
        before = by_name(await core.collector.collect())[name]
        shown = {dto_lab.id: dto_lab.state for dto_lab in before.labs}
        assert shown[lab.id] == "STARTED"
        event = await core.cml_actions.lab_action(sim.instance_id, lab.id, "stop")
        assert isinstance(event, LabChanged) and published == [event]
        assert (event.action, event.lab_state, event.lab_title) == ("stop", "STOPPED", lab.title)
        assert event.changed_by == "tester"
        assert sim.model.book.lab_state(lab) == "STOPPED"  # CML's own view
        assert ("stop_lab", lab.id) in telemetry(fleet, name)
        after = by_name(await core.collector.collect())[name]
        assert {dto_lab.id: dto_lab.state for dto_lab in after.labs}[lab.id] == "STOPPED"
        lines = [a for a in audit_lines(tmp_path) if a["action"] == "stop_lab"]
        assert [a["result"] for a in lines] == ["intent", "ok"]
        assert lines[0]["detail"] == {"lab_id": lab.id, "lab_title": lab.title}
        assert lines[1]["detail"]["lab_state"] == "STOPPED"
        assert lines[0]["instance_id"] == sim.instance_id and lines[0]["worker"] == name
        # stopped now: stopping it again is refused by the rule, and nothing is sent
        requests = sim.endpoint.request_count
        with pytest.raises(ActionRefused, match="already stopped"):
            await core.cml_actions.lab_action(sim.instance_id, lab.id, "stop")
        assert sim.endpoint.request_count == requests
        # a stopped lab can be wiped
        wiped = await core.cml_actions.lab_action(sim.instance_id, lab.id, "wipe")
        assert wiped.lab_state == "DEFINED_ON_CORE"
        assert ("wipe_node", lab.id) in telemetry(fleet, name)
    finally:
        sim.model.book.start_lab(lab, lab.owner, fleet.clock.now())
        await core.close()


async def test_the_last_look_refuses_a_lab_someone_changed_since_it_was_shown(fleet, tmp_path):
    name = "cml-busy-01"
    sim = fleet.worker(name)
    lab = sim.model.labs[0]
    core = make_core(fleet, tmp_path)
    try:
        shown = by_name(await core.collector.collect())[name]
        assert {dto_lab.id: dto_lab.state for dto_lab in shown.labs}[lab.id] == "STARTED"
        sim.model.book.stop_lab(lab, lab.owner, fleet.clock.now())  # someone else, meanwhile
        with pytest.raises(ActionRefused, match=r"already stopped.*read right before sending"):
            await core.cml_actions.lab_action(sim.instance_id, lab.id, "stop")
        results = [(a["action"], a["result"]) for a in audit_lines(tmp_path)]
        assert results == [("stop_lab", "refused")]  # no intent: nothing was sent
        # a lab that is not there is refused the same way
        with pytest.raises(ActionRefused, match="has no lab"):
            await core.cml_actions.lab_action(sim.instance_id, lab.id[:-1] + "0", "start")
    finally:
        sim.model.book.start_lab(lab, lab.owner, fleet.clock.now())
        await core.close()


async def test_read_only_and_a_stopped_worker_refuse_lab_and_licence_actions(fleet, tmp_path):
    core = make_core(fleet, tmp_path, read_only=True)
    sim = fleet.worker("cml-busy-01")
    stopped = fleet.worker("cml-stopped-06")
    try:
        await core.collector.collect()
        requests = sim.endpoint.request_count
        with pytest.raises(ActionRefused, match="read-only mode: stop lab not sent"):
            await core.cml_actions.lab_action(sim.instance_id, sim.model.labs[0].id, "stop")
        with pytest.raises(ActionRefused, match="read-only mode: register licence not sent"):
            await core.cml_actions.register_licence(sim.instance_id, "T0ken")
        with pytest.raises(ActionRefused, match="read-only mode: deregister licence not sent"):
            await core.cml_actions.deregister_licence(sim.instance_id)
        assert sim.endpoint.request_count == requests
        assert {a["result"] for a in audit_lines(tmp_path)} == {"refused"}
    finally:
        await core.close()
    core = make_core(fleet, tmp_path)
    try:
        await core.collector.collect()
        with pytest.raises(ActionRefused, match="is stopped; only a running worker's CML"):
            await core.cml_actions.deregister_licence(stopped.instance_id)
    finally:
        await core.close()


async def test_a_bad_token_is_refused_with_cmls_reason_and_never_written(fleet, tmp_path):
    name = "cml-unreg-12"
    sim = fleet.worker(name)
    token = "bad-Zq9xK3tRmW7"
    core = make_core(fleet, tmp_path)
    published = []
    core.activity.add(published.append)
    try:
        await core.collector.collect()
        with pytest.raises(ActionFailed) as failed:
            await core.cml_actions.register_licence(sim.instance_id, token)
        assert str(failed.value) == (  # CML repeated the token: cut out, the words kept
            "cml-unreg-12: register licence failed: CML refused the registration: invalid "
            "input (400): Invalid registration token '***': it was not accepted."
        )
        assert published == []
        text = (tmp_path / "audit.jsonl").read_text()
        assert token not in text
        results = [(a["action"], a["result"]) for a in audit_lines(tmp_path)]
        assert results == [("register_licence", "intent"), ("register_licence", "failed")]
        assert sim.model.licence.kind == "unregistered"
    finally:
        await core.close()


async def test_a_registration_shows_in_progress_then_completes(fleet, tmp_path):
    name = "cml-unreg-12"
    sim = fleet.worker(name)
    token = "T0ken-c0mpl3tes"
    core = make_core(fleet, tmp_path)
    core.cml_actions.poll_seconds = 0.02
    published = []
    core.activity.add(published.append)
    try:
        assert by_name(await core.collector.collect())[name].license_status == "unregistered"
        task = asyncio.create_task(core.cml_actions.register_licence(sim.instance_id, token))
        async with asyncio.timeout(10):
            while not published:
                await asyncio.sleep(0.01)
        assert isinstance(published[0], LicenceChanged)
        assert (published[0].step, published[0].by) == ("registration started", "tester")
        during = by_name(await core.collector.collect())[name]
        assert during.license_operation == "registering"  # CML's state, read again at once
        assert during.license_status == "unregistered"  # not registered yet
        # a second registration while this one runs: another process gets CML's 409
        other = make_core(fleet, tmp_path / "other")
        try:
            await other.collector.collect()
            with pytest.raises(ActionFailed, match=r"CML is busy.*\(409\)"):
                await other.cml_actions.register_licence(sim.instance_id, token)
        finally:
            await other.close()
        fleet.clock.advance(REGISTRATION_S)
        done = await asyncio.wait_for(task, 10)
        assert (done.step, done.detail) == ("registration completed", "COMPLETED")
        assert [e.step for e in published] == ["registration started", "registration completed"]
        after = by_name(await core.collector.collect())[name]
        assert (after.license_status, after.license_operation) == ("registered", None)
        assert token not in (tmp_path / "audit.jsonl").read_text()
        assert [a["result"] for a in audit_lines(tmp_path)] == ["intent", "ok"]
    finally:
        sim.model.licence.kind = "unregistered"
        sim.model.licence.registering_since = None
        await core.close()


async def test_deregistration_then_again_says_already_deregistered(fleet, tmp_path):
    name = "cml-labs-02"
    sim = fleet.worker(name)
    core = make_core(fleet, tmp_path)
    try:
        assert by_name(await core.collector.collect())[name].license_status == "registered"
        event = await core.cml_actions.deregister_licence(sim.instance_id)
        assert (event.step, event.by, event.detail) == ("deregistered", "tester", None)
        assert by_name(await core.collector.collect())[name].license_status == "unregistered"
        # shown unregistered now: a second is refused by the rule, and nothing is sent
        requests = sim.endpoint.request_count
        with pytest.raises(ActionRefused, match="has no registered licence; nothing to"):
            await core.cml_actions.deregister_licence(sim.instance_id)
        assert sim.endpoint.request_count == requests
        # shown registered, but deregistered since (elsewhere): CML's own answer says so
        sim.model.licence.kind = "registered"
        core.collector.read_soon(sim.instance_id)  # the licence is read on the next cycle
        assert by_name(await core.collector.collect())[name].license_status == "registered"
        sim.model.licence.kind = "unregistered"
        with pytest.raises(ActionFailed, match=r"already deregistered from .* \(400\)"):
            await core.cml_actions.deregister_licence(sim.instance_id)
        results = [a["result"] for a in audit_lines(tmp_path)]
        assert results == ["intent", "ok", "intent", "failed"]
    finally:
        sim.model.licence.kind = "registered"
        await core.close()
