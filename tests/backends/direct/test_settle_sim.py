"""The settle rule in the core: a collection that started before the operator's write
never undoes it, in the registry, the next snapshot, the idle checker or auto-pause.

The collection is held open after its EC2 listing was read (so the listing is stale for sure),
the operator acts, then the collection completes. Everything runs against the simulated fleet
(moto + CML over HTTPS on 127.0.0.1) with a stepped clock.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from cmltui.backends.direct.wiring import Core
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.tags import IDLE_DETECTION_TAG, MANUAL_PAUSE_COUNT
from cmltui.sources.aws import RegionListing
from tests.backends.direct.sim_core import make_core

pytestmark = pytest.mark.asyncio(loop_scope="module")


class HeldListing:
    """Lets a collection read its EC2 listing, then holds it until the test releases it."""

    def __init__(self, core: Core) -> None:
        self._real = core.aws.list_fleet
        self.listed = asyncio.Event()
        self.release = asyncio.Event()
        self.listings: list[RegionListing] = []
        core.aws.list_fleet = self._held  # type: ignore[method-assign]

    async def _held(self, **kwargs: bool) -> list[RegionListing]:
        self.listings = await self._real(**kwargs)  # e.g. status_checks=False off its cadence
        self.listed.set()
        await self.release.wait()
        return self.listings

    def listed_tags(self, instance_id: str) -> dict[str, str]:
        for listing in self.listings:
            for instance in listing.instances:
                if instance.instance_id == instance_id:
                    return dict(instance.tags)
        raise KeyError(instance_id)


def ec2_state(core: Core, instance_id: str) -> tuple[str, dict[str, str]]:
    ec2 = core.aws.client("ec2", core.config.aws.regions[0])
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return instance["State"]["Name"], {t["Key"]: t["Value"] for t in instance.get("Tags", [])}


def dto_of(snapshot, instance_id):
    return next(dto for dto in snapshot.workers if dto.id == instance_id)


async def test_a_toggle_during_a_collection_survives_it_and_auto_pause_respects_it(fleet, tmp_path):
    core = make_core(fleet, tmp_path, idle__auto_pause=True)
    worker_id = fleet.worker("cml-idle-03").instance_id  # idle for hours: auto-pause bait
    paused = []
    core.activity.add(lambda e: paused.append(e) if e.type == "worker.paused" else None)
    try:
        await core.collector.collect()
        held = HeldListing(core)
        collection = asyncio.create_task(core.collector.collect())
        await held.listed.wait()  # the collection has read EC2: no idle-detection tag yet
        assert IDLE_DETECTION_TAG not in held.listed_tags(worker_id)

        fleet.clock.advance(2)  # the operator presses `i` two seconds into the collection
        event = await core.actions.toggle_idle_detection(worker_id, shown_enabled=True)
        assert event.is_enabled is False
        held.release.set()
        snapshot = await collection

        # The registry, the snapshot and the idle checker all keep the toggle ...
        worker = core.registry.require(worker_id)
        assert worker.tags[IDLE_DETECTION_TAG] == "disabled"
        assert dto_of(snapshot, worker_id).is_idle_detection_enabled is False
        assert dto_of(snapshot, worker_id).idle_state == "off"
        core.aws.list_fleet = held._real  # type: ignore[method-assign]
        await core.idle_checker.check_due()
        # ... so auto-pause does not stop the worker the operator has just excluded.
        assert [e.worker_id for e in paused if e.worker_id == worker_id] == []
        assert ec2_state(core, worker_id) == ("running", ec2_state(core, worker_id)[1])
        assert ec2_state(core, worker_id)[1][IDLE_DETECTION_TAG] == "disabled"

        # A later listing shows the written value: the write is settled and nothing is pending.
        snapshot = await core.collector.collect()
        assert worker.pending_tags == {}
        assert dto_of(snapshot, worker_id).is_idle_detection_enabled is False
    finally:
        await core.close()


async def test_auto_pause_reads_the_tag_again_and_spares_a_worker_excluded_meanwhile(
    fleet, tmp_path
):
    """Another admin excludes the worker from idle detection while a collection is held: the
    listing is stale, so the registry still says enabled; the re-read right before the stop
    says disabled, and the whole precondition rule applied to it sends nothing."""
    # Idle detection is off by default here and on for one worker only, idle for 50 minutes
    # against a 30-minute timeout, whose CML no other test of the module stops: whatever ran
    # before, it is the one auto-pause candidate.
    core = make_core(
        fleet,
        tmp_path,
        idle__auto_pause=True,
        idle__default_per_worker="disabled",
        idle__timeout_minutes=30,
    )
    worker_id = fleet.worker("cml-nearpause-05").instance_id
    ec2 = core.aws.client("ec2", core.config.aws.regions[0])
    ec2.create_tags(Resources=[worker_id], Tags=[{"Key": IDLE_DETECTION_TAG, "Value": "enabled"}])
    try:
        await core.collector.collect()
        held = HeldListing(core)
        collection = asyncio.create_task(core.collector.collect())
        await held.listed.wait()  # read before the other admin's change
        assert held.listed_tags(worker_id)[IDLE_DETECTION_TAG] == "enabled"
        ec2.create_tags(
            Resources=[worker_id], Tags=[{"Key": IDLE_DETECTION_TAG, "Value": "disabled"}]
        )
        held.release.set()
        snapshot = await collection
        assert dto_of(snapshot, worker_id).is_idle_detection_enabled is True  # the stale view

        core.aws.list_fleet = held._real  # type: ignore[method-assign]
        core.aws.calls.reset()
        events = await core.idle_checker.check_due()
        ops = {op: n for (_r, _s, op), n in core.aws.calls.snapshot().items()}
        assert "StopInstances" not in ops and "CreateTags" not in ops  # nothing was sent
        assert ops.get("DescribeInstances") == 1  # the last look
        assert [e for e in events if e.type == "worker.paused"] == []
        assert ec2_state(core, worker_id)[0] == "running"
        audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        ours = [a for a in audit if a["instance_id"] == worker_id]
        assert [(a["action"], a["result"]) for a in ours] == [("auto_pause", "refused")]
        assert "idle detection is off" in ours[0]["error"]  # the audit says why
        assert ours[0]["operator"] == "system"

        # The next listing shows the tag: the worker is no longer eligible, and the refusal's
        # note on the worker goes with it.
        snapshot = await core.collector.collect()
        assert dto_of(snapshot, worker_id).idle_state == "off"
        await core.idle_checker.check_worker(core.registry.require(worker_id))
        assert "auto_pause" not in core.registry.require(worker_id).errors
    finally:
        await core.close()


async def test_someone_else_changing_it_back_wins_after_the_settle_time(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker_id = fleet.worker("cml-nearpause-05").instance_id
    ec2 = core.aws.client("ec2", core.config.aws.regions[0])
    try:
        await core.collector.collect()
        await core.actions.toggle_idle_detection(worker_id, shown_enabled=True)
        ec2.delete_tags(Resources=[worker_id], Tags=[{"Key": IDLE_DETECTION_TAG}])  # another admin
        settle = core.config.idle.settle_seconds
        fleet.clock.advance(settle - 5)  # within the window: still the operator's value
        snapshot = await core.collector.collect()
        assert dto_of(snapshot, worker_id).is_idle_detection_enabled is False
        fleet.clock.advance(10)  # a listing started after write + settle, still disagreeing
        snapshot = await core.collector.collect()
        assert dto_of(snapshot, worker_id).is_idle_detection_enabled is True
        assert core.registry.require(worker_id).pending_tags == {}
    finally:
        await core.close()


async def test_a_pause_during_a_collection_survives_it(fleet, tmp_path):
    core = make_core(fleet, tmp_path, idle__auto_pause=True)
    worker_id = fleet.worker("cml-busy-01").instance_id
    paused = []
    core.activity.add(lambda e: paused.append(e) if e.type == "worker.paused" else None)
    try:
        await core.collector.collect()
        held = HeldListing(core)
        collection = asyncio.create_task(core.collector.collect())
        await held.listed.wait()  # read while the worker was running, without pause tags
        assert MANUAL_PAUSE_COUNT not in held.listed_tags(worker_id)

        fleet.clock.advance(2)
        event = await core.actions.pause(worker_id)
        assert event.manual_pause_count == 1
        held.release.set()
        snapshot = await collection

        worker = core.registry.require(worker_id)
        assert worker.status is WorkerStatus.STOPPING  # not back to running
        dto = dto_of(snapshot, worker_id)
        assert dto.status == "stopping"
        assert (dto.manual_pause_count, dto.pause_reason, dto.paused_by) == (1, "manual", "tester")
        assert worker.tags[MANUAL_PAUSE_COUNT] == "1"
        core.aws.list_fleet = held._real  # type: ignore[method-assign]
        await core.idle_checker.check_due()
        # The operator's pause was published once, by the action; auto-pause left it alone
        # (not running), so no second pause event.
        assert [e for e in paused if e.worker_id == worker_id] == [event]

        snapshot = await core.collector.collect()  # a fresh listing confirms the stop
        dto = dto_of(snapshot, worker_id)
        assert dto.status == "stopped" and dto.manual_pause_count == 1
        assert worker.pending_status is None and worker.pending_tags == {}
        audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        ours = [(a["action"], a["result"]) for a in audit if a["instance_id"] == worker_id]
        assert ours == [("pause", "intent"), ("pause", "ok")]
    finally:
        core.aws.client("ec2", core.config.aws.regions[0]).start_instances(InstanceIds=[worker_id])
        await core.close()


async def test_an_external_stop_under_an_open_dialog_is_not_recorded_as_ours(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker_id = fleet.worker("cml-eval-10").instance_id
    ec2 = core.aws.client("ec2", core.config.aws.regions[0])
    try:
        snapshot = await core.collector.collect()
        assert dto_of(snapshot, worker_id).status == "running"  # what the dialog shows
        ec2.stop_instances(InstanceIds=[worker_id])  # someone else, while the dialog is open
        core.aws.calls.reset()
        with pytest.raises(Exception, match="is now stopped"):
            await core.actions.pause(worker_id)
        ops = {op: n for (_r, _s, op), n in core.aws.calls.snapshot().items()}
        assert ops == {"DescribeInstances": 1}  # the re-read, and nothing sent
        _, tags = ec2_state(core, worker_id)
        assert MANUAL_PAUSE_COUNT not in tags
        snapshot = await core.collector.collect()
        dto = dto_of(snapshot, worker_id)
        assert dto.status == "stopped" and dto.manual_pause_count == 0
        assert dto.pause_reason == "external"
        audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert [(a["action"], a["result"]) for a in audit] == [("pause", "refused")]
    finally:
        ec2.start_instances(InstanceIds=[worker_id])
        fleet.clock.advance(timedelta(seconds=1).total_seconds())
        await core.close()


async def test_no_action_is_sent_when_its_intent_cannot_be_audited(fleet, tmp_path):
    audit_dir = tmp_path / "audit.jsonl"
    audit_dir.mkdir()  # the audit log's path is a directory: nothing can be written there
    core = make_core(fleet, tmp_path)
    core.actions.audit.path = audit_dir
    worker_id = fleet.worker("cml-busy-01").instance_id
    try:
        await core.collector.collect()
        core.aws.calls.reset()
        with pytest.raises(Exception, match=r"not sent: audit log .* cannot be written"):
            await core.actions.toggle_idle_detection(worker_id, shown_enabled=True)
        with pytest.raises(Exception, match=r"not sent: audit log .* cannot be written"):
            await core.actions.pause(worker_id)
        ops = {op for (_r, _s, op) in core.aws.calls.snapshot()}
        assert ops <= {"DescribeInstances"}  # re-read only: no CreateTags, no StopInstances
        assert ec2_state(core, worker_id)[0] == "running"
        assert IDLE_DETECTION_TAG not in ec2_state(core, worker_id)[1]
    finally:
        await core.close()
