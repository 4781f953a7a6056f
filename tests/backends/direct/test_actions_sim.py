"""Actions and the idle checker against the simulated fleet."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import pytest_asyncio
from botocore.stub import Stubber

from cmltui.api.backend import ActionFailed, ActionRefused
from cmltui.clock import ManualClock
from cmltui.domain import idle as idle_policy
from cmltui.domain.tags import IDLE_DETECTION_TAG
from cmltui.sim import SimulatedFleet
from tests.backends.direct.sim_core import T0, described_reply, make_core
from tests.worker_lookup import by_name

pytestmark = pytest.mark.asyncio(loop_scope="module")


def ec2_state(core, instance_id):
    ec2 = core.aws.client("ec2", core.config.aws.regions[0])
    reply = ec2.describe_instances(InstanceIds=[instance_id])
    instance = reply["Reservations"][0]["Instances"][0]
    return instance["State"]["Name"], {t["Key"]: t["Value"] for t in instance.get("Tags", [])}


async def test_toggle_writes_the_tag_and_the_next_snapshot_shows_it(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker = fleet.worker("cml-nearpause-05")
    try:
        before = by_name(await core.collector.collect())["cml-nearpause-05"]
        assert before.is_idle_detection_enabled is True
        core.aws.calls.reset()
        event = await core.actions.toggle_idle_detection(worker.instance_id, shown_enabled=True)
        assert event.is_enabled is False and event.toggled_by == "tester"
        ops = {op: n for (_r, _s, op), n in core.aws.calls.snapshot().items()}
        assert ops == {"CreateTags": 1}
        assert ec2_state(core, worker.instance_id)[1][IDLE_DETECTION_TAG] == "disabled"
        after = by_name(await core.collector.collect())["cml-nearpause-05"]
        assert after.is_idle_detection_enabled is False
        assert after.target_pause_at is None
        # the toggle writes the opposite of what was shown, never read-then-invert
        event = await core.actions.toggle_idle_detection(worker.instance_id, shown_enabled=False)
        assert event.is_enabled is True
        assert ec2_state(core, worker.instance_id)[1][IDLE_DETECTION_TAG] == "enabled"
    finally:
        await core.close()


async def test_pause_then_resume_round_trip_and_a_new_process_reads_history(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    name = "cml-idle-03"
    worker = fleet.worker(name)
    try:
        before = by_name(await core.collector.collect())[name]
        paused = await core.actions.pause(worker.instance_id)
        assert (paused.pause_reason, paused.paused_by) == ("manual", "tester")
        assert paused.manual_pause_count == before.manual_pause_count + 1
        assert ec2_state(core, worker.instance_id)[0] == "stopped"
        fleet.step()
        await fleet.sync()
        snap = by_name(await core.collector.collect())[name]
        assert (snap.status, snap.service_status) == ("stopped", "unavailable")
        assert snap.pause_reason == "manual" and snap.paused_by == "tester"
        assert snap.manual_pause_count == before.manual_pause_count + 1
        assert snap.cpu_utilization is None and snap.public_ip is None
        with pytest.raises(ActionRefused, match="already stopped"):
            await core.actions.pause(worker.instance_id)

        resumed = await core.actions.resume(worker.instance_id)
        assert resumed.manual_resume_count == before.manual_resume_count + 1
        fleet.step()
        await fleet.sync()
        snap = by_name(await core.collector.collect())[name]
        assert snap.status == "running"
        assert snap.service_status == "starting"  # CML boots after a delay, within the grace
        assert snap.in_snooze_period is True
        fleet.clock.advance(fleet.boot_delay_s + 1)
        fleet.step()
        await fleet.sync()
        snap = by_name(await core.collector.collect())[name]
        assert (snap.service_status, snap.cml_ready) == ("starting", False)  # services starting
        fleet.clock.advance(fleet.ready_delay_s)
        fleet.step()
        await fleet.sync()
        snap = by_name(await core.collector.collect())[name]
        assert snap.service_status == "available"
        with pytest.raises(ActionRefused, match="already running"):
            await core.actions.resume(worker.instance_id)

        # a fresh process (new registry) reads the history back from the tags
        fresh = make_core(fleet, tmp_path)
        try:
            again = by_name(await fresh.collector.collect())[name]
        finally:
            await fresh.close()
        assert again.manual_pause_count == before.manual_pause_count + 1
        assert again.manual_resume_count == before.manual_resume_count + 1
        assert again.last_paused_at == paused.paused_at
        assert again.last_resumed_at == resumed.resumed_at
        assert again.paused_by == "tester"
        audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert [(a["action"], a["result"]) for a in audit] == [
            ("pause", "intent"),  # written (and flushed) before StopInstances was sent
            ("pause", "ok"),
            ("resume", "intent"),
            ("resume", "ok"),
        ]
        assert audit[0]["instance_id"] == worker.instance_id and audit[0]["operator"] == "tester"
    finally:
        await core.close()


async def test_read_only_blocks_every_write_even_from_code(fleet, tmp_path):
    core = make_core(fleet, tmp_path, read_only=True)
    worker = fleet.worker("cml-busy-01")
    try:
        await core.collector.collect()
        core.aws.calls.reset()
        with pytest.raises(ActionRefused, match="read-only"):
            await core.actions.toggle_idle_detection(worker.instance_id, shown_enabled=True)
        with pytest.raises(ActionRefused, match="read-only"):
            await core.actions.pause(worker.instance_id)
        assert core.aws.calls.snapshot() == {}
        assert ec2_state(core, worker.instance_id)[0] == "running"
    finally:
        await core.close()


async def test_access_denied_is_a_clear_failure_and_changes_nothing(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker = fleet.worker("cml-busy-01")
    try:
        await core.collector.collect()
        before = core.registry.require(worker.instance_id)
        history_before = before.history
        ec2 = core.aws.client("ec2", core.config.aws.regions[0])
        with Stubber(ec2) as stub:
            stub.add_response("describe_instances", described_reply(worker.instance_id, "running"))
            stub.add_client_error(
                "stop_instances",
                "UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            )
            with pytest.raises(ActionFailed, match=r"UnauthorizedOperation|not authorized"):
                await core.actions.pause(worker.instance_id)
        after = core.registry.require(worker.instance_id)
        assert after.history == history_before and after.stop_initiated_at is None
        assert not core.actions.in_flight(worker.instance_id)
    finally:
        await core.close()


async def test_stop_stands_when_history_tags_cannot_be_written(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker = fleet.worker("cml-unreg-12")
    try:
        await core.collector.collect()
        ec2 = core.aws.client("ec2", core.config.aws.regions[0])
        real_stop = ec2.stop_instances(InstanceIds=[worker.instance_id])
        with Stubber(ec2) as stub:
            stub.add_response("describe_instances", described_reply(worker.instance_id, "running"))
            stub.add_response(
                "stop_instances", {"StoppingInstances": real_stop["StoppingInstances"]}
            )
            stub.add_client_error("create_tags", "UnauthorizedOperation", "no tags for you")
            event = await core.actions.pause(worker.instance_id)
        assert event.manual_pause_count >= 1
        assert ec2_state(core, worker.instance_id)[0] == "stopped"
        assert any("history tags not written" in w for w in core.warnings.kept)
        audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert audit[-1]["result"] == "ok, history tags not written"
        assert "UnauthorizedOperation" in audit[-1]["error"]
        # Later listings (no history tags on the instance) never turn this operator's pause
        # into someone else's, within the settle time and long after it.
        for minutes in (0, 30):
            fleet.clock.advance(minutes * 60)
            fleet.step()
            await fleet.sync()
            snap = by_name(await core.collector.collect())[worker.name]
            assert snap.status == "stopped"
            assert (snap.pause_reason, snap.paused_by) == ("manual", "tester"), minutes
            assert snap.manual_pause_count == event.manual_pause_count
    finally:
        core.aws.client("ec2", core.config.aws.regions[0]).start_instances(
            InstanceIds=[worker.instance_id]
        )
        await core.close()


async def run_checks_until_all_checked(core):
    """Make every check due, then tick the checker as its timer would until none is left."""
    for w in core.registry:
        w.activity.last_check_attempt_at = core.clock.now() - timedelta(hours=1)
    for _ in range(len(core.registry)):
        if not core.idle_checker.due_workers(core.clock.now()):
            break
        await core.idle_checker.check_due()
    assert core.idle_checker.due_workers(core.clock.now()) == []


@pytest_asyncio.fixture(loop_scope="module")
async def fresh_fleet():
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(T0))
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def test_auto_pause_end_to_end_with_a_stepped_clock(fresh_fleet, tmp_path):
    fleet = fresh_fleet
    events = []
    core = make_core(fleet, tmp_path, idle__auto_pause=True)
    core.activity.add(events.append)
    near = fleet.worker("cml-nearpause-05")
    idle_worker = fleet.worker("cml-idle-03")
    try:
        await core.collector.collect()
        # First check: cml-idle-03 (idle for hours, not in snooze) is paused at once; nothing else
        # (busy ones are active, cml-snooze-04 is in snooze, cml-labs-02 is disabled by tag).
        core.aws.calls.reset()
        await core.idle_checker.check_due()
        stops = [e for e in events if e.type == "worker.paused"]
        assert [e.worker_id for e in stops] == [idle_worker.instance_id]
        assert (stops[0].pause_reason, stops[0].paused_by) == ("idle_timeout", "system")
        assert stops[0].auto_pause_count == 1
        assert stops[0].idle_duration_minutes >= 170
        ops = {op: n for (_r, _s, op), n in core.aws.calls.snapshot().items()}
        assert ops.get("StopInstances") == 1
        assert ec2_state(core, idle_worker.instance_id)[0] == "stopped"

        # Step past cml-nearpause-05's target pause time: exactly one more StopInstances.
        pause_at = idle_policy.target_pause_at(
            core.registry.require(near.instance_id), core.config.idle_settings()
        )
        assert pause_at is not None and pause_at > fleet.clock.now()
        fleet.clock.set(pause_at + timedelta(seconds=1))
        fleet.step()
        await fleet.sync()
        events.clear()
        core.aws.calls.reset()
        await core.collector.collect()
        await run_checks_until_all_checked(core)
        paused = [e for e in events if e.type == "worker.paused"]
        assert [e.worker_id for e in paused] == [near.instance_id]
        ops = {op: n for (_r, _s, op), n in core.aws.calls.snapshot().items()}
        assert ops.get("StopInstances") == 1
        snap = by_name(await core.collector.collect())
        assert snap["cml-nearpause-05"].auto_pause_count == 1
        assert snap["cml-nearpause-05"].pause_reason == "idle_timeout"
        assert snap["cml-nearpause-05"].paused_by == "system"

        # Later checks do not pause again.
        events.clear()
        await run_checks_until_all_checked(core)
        assert [e for e in events if e.type == "worker.paused"] == []
    finally:
        await core.close()


@pytest.mark.parametrize(
    "overrides",
    [
        {"idle__auto_pause": False},
        {"idle__auto_pause": True, "read_only": True},
        {"idle__auto_pause": True, "idle__enabled": False},
        {"idle__auto_pause": True, "idle__default_per_worker": "disabled"},
    ],
    ids=["auto-pause-off", "read-only", "idle-disabled", "disabled-per-worker-default"],
)
async def test_no_auto_pause_when_a_switch_says_no(fleet, tmp_path, overrides):
    events = []
    core = make_core(fleet, tmp_path, **overrides)
    core.activity.add(events.append)
    try:
        await core.collector.collect()
        core.aws.calls.reset()
        await core.idle_checker.check_due()
        assert [e for e in events if e.type == "worker.paused"] == []
        ops = {op for (_r, _s, op) in core.aws.calls.snapshot()}
        assert "StopInstances" not in ops
        if overrides.get("idle__auto_pause") is False:
            # with auto-pause off the checker still reports: it would pause at target_pause_at
            updates = [e for e in events if e.type == "worker.activity.updated"]
            assert updates and any(e.target_pause_at is not None for e in updates)
    finally:
        await core.close()
