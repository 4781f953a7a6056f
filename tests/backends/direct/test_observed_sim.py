"""What another operator does on AWS reaches this cmltui's activity channel within one cycle,
as the same minimal event; this cmltui's own actions are published once, never again."""

from __future__ import annotations

import boto3
import pytest

from cmltui.api.events import ActivityEvent, IdleDetectionToggled, WorkerPaused, WorkerResumed
from cmltui.backends.direct.observed import SOMEONE_ELSE
from tests.backends.direct.sim_core import make_core

pytestmark = pytest.mark.asyncio(loop_scope="module")


def ec2(fleet):
    return boto3.client(
        "ec2", region_name=fleet.region, endpoint_url=fleet.aws_endpoint_url,
        **fleet.aws_credentials,
    )  # fmt: skip


async def test_a_toggle_and_a_stop_from_elsewhere_become_events(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    heard: list[ActivityEvent] = []
    core.activity.add(heard.append)
    worker = fleet.worker("cml-busy-01")
    try:
        first = await core.collector.collect()
        assert heard == []  # the first sight of the fleet is no change
        dto = next(d for d in first.workers if d.id == worker.instance_id)
        flipped = "disabled" if dto.is_idle_detection_enabled else "enabled"
        ec2(fleet).create_tags(
            Resources=[worker.instance_id],
            Tags=[{"Key": "cmltui:idle-detection", "Value": flipped}],
        )
        second = await core.collector.collect()
        toggles = [e for e in heard if isinstance(e, IdleDetectionToggled)]
        assert [(e.worker_id, e.is_enabled, e.toggled_by) for e in toggles] == [
            (worker.instance_id, flipped == "enabled", SOMEONE_ELSE)
        ]
        assert toggles[0].toggled_at == second.collected_at
        heard.clear()
        await core.collector.collect()
        assert heard == []  # nothing changed since: nothing said
        fleet.clock.advance(60)
        ec2(fleet).stop_instances(InstanceIds=[worker.instance_id])
        await core.collector.collect()
        paused = [e for e in heard if isinstance(e, WorkerPaused)]
        assert [(e.worker_id, e.pause_reason, e.paused_by) for e in paused] == [
            (worker.instance_id, "external", SOMEONE_ELSE)
        ]
    finally:
        await core.close()


async def test_our_own_toggle_and_pause_are_published_once(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    heard: list[ActivityEvent] = []
    core.activity.add(heard.append)
    worker = fleet.worker("cml-labs-02")
    try:
        dto = next(
            d for d in (await core.collector.collect()).workers if d.id == worker.instance_id
        )
        await core.actions.toggle_idle_detection(dto.id, dto.is_idle_detection_enabled)
        await core.actions.pause(dto.id)
        for _ in range(2):
            fleet.clock.advance(15)
            await core.collector.collect()
        kinds = [type(e) for e in heard if e.worker_id == dto.id]
        assert kinds == [IdleDetectionToggled, WorkerPaused]
        await core.actions.resume(dto.id)
        fleet.clock.advance(15)
        await core.collector.collect()
        kinds = [type(e) for e in heard if e.worker_id == dto.id]
        assert kinds == [IdleDetectionToggled, WorkerPaused, WorkerResumed]
    finally:
        await core.close()
