"""After a pause and a resume, no utilization figure from before the start is shown as now.

The scenario that showed 62.78 % while CML was still starting: a 10-minute pause, a resume,
and CloudWatch's 15-minute look-back bringing a datapoint from before the stop.
"""

from __future__ import annotations

import json

import pytest

from cmltui.cli.commands import snapshot_json
from tests.backends.direct.sim_core import make_core

pytestmark = pytest.mark.asyncio(loop_scope="module")

NAME = "cml-busy-01"
FIELDS = ("cpu_utilization", "memory_utilization", "disk_utilization")


async def test_no_figure_from_before_the_start_after_a_resume(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker = fleet.worker(NAME)
    try:

        async def collect() -> dict:
            fleet.step()
            await fleet.sync()
            snapshot = await core.collector.collect()
            printed = json.loads(snapshot_json(snapshot))  # what `snapshot --format json` says
            return next(w for w in printed["workers"] if w["name"] == NAME)

        before = await collect()
        assert before["cpu_utilization"] is not None
        assert set(before["utilization_ages_seconds"]) == set(FIELDS)
        await core.actions.pause(worker.instance_id)
        fleet.clock.advance(600)  # ten minutes stopped
        stopped = await collect()
        assert stopped["status"] == "stopped" and stopped["cpu_utilization"] is None
        resumed = await core.actions.resume(worker.instance_id)
        started = resumed.resumed_at
        for step in range(8):  # booting, answering not ready, ready: every cycle on the way
            shown = await collect()
            now = fleet.clock.now()
            since_start = (now - started).total_seconds()
            assert shown["status"] == "running"
            for field in FIELDS:
                age = shown["utilization_ages_seconds"].get(field)
                if shown[field] is None:
                    assert age is None, (step, field)
                else:  # a figure is always from this run, and says how old it is
                    assert age is not None and age <= since_start, (step, field, age)
            if step == 0:
                assert shown["service_status"] == "starting"
                assert shown["cpu_utilization"] is None  # the old point is not shown
                assert shown["cml_system_info"] is None and shown["cml_stale_seconds"] is None
            fleet.clock.advance(10)
        fleet.clock.advance(fleet.boot_delay_s + fleet.ready_delay_s)
        ready = await collect()
        assert ready["service_status"] == "available" and ready["cpu_utilization"] is not None
        assert ready["utilization_ages_seconds"]["cpu_utilization"] <= 10
    finally:
        await core.close()
