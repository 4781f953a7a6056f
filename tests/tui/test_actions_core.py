"""The dashboard's actions over the REAL core against the simulated fleet (moto + CML on loopback).

What goes over the wire is counted by the core's own AWS call counter; what the screen shows is
read from the widgets. Collection runs only when a test asks (`app.backend.collect()`): the
service is not started, so the idle checker's timer is off, so every count here is exact.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from botocore.stub import Stubber

from cmltui.api.backend import BackendContext
from cmltui.api.events import ActivityEvent, IdleDetectionToggled
from cmltui.backends.direct.service import CoreService, Progress
from cmltui.backends.direct.wiring import Core
from cmltui.clock import ManualClock
from cmltui.domain.intervals import Cadence
from cmltui.sim import SimulatedFleet
from cmltui.tui.app import CmltuiApp
from cmltui.tui.bulk import BulkPauseScreen
from cmltui.tui.confirm import ConfirmActionScreen
from cmltui.tui.panels import IdleStatusPanel, PausePanel
from tests.backends.direct.sim_core import T0, described_reply, make_core
from tests.tui.pilot_helpers import settle

pytestmark = pytest.mark.asyncio(loop_scope="module")
SIZE = (160, 48)


def service_over(core: Core) -> CoreService:
    """The real service over an open core, never started: only what a test does happens."""

    async def opener(cadence: Cadence, progress: Progress) -> Core:
        core.collector.cadence = cadence
        return core

    context = BackendContext(profile="demo", regions=(core.config.aws.regions[0],), demo=True)
    return CoreService(config=core.config, context=context, opener=opener, label="test")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fleet() -> AsyncIterator[SimulatedFleet]:
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(T0))
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def core(fleet: SimulatedFleet, tmp_path: Path) -> AsyncIterator[Core]:
    core = make_core(fleet, tmp_path)
    try:
        yield core
    finally:
        await core.close()


def _ops(core: Core) -> dict[str, int]:
    ops: dict[str, int] = {}
    for (_region, _service, op), n in core.aws.calls.snapshot().items():
        ops[op] = ops.get(op, 0) + n
    return ops


async def _start(app: CmltuiApp, pilot, name: str) -> tuple[str, list[ActivityEvent]]:
    """One cycle, the cursor on `name`, and a recorder of the activity channel."""
    await app.backend.collect()
    await pilot.pause()
    worker_id = next(d.id for d in app.latest.workers if d.name == name)
    app.table.move_to(worker_id)
    await pilot.pause()
    events: list[ActivityEvent] = []
    app.bus.activity.subscribe(app, lambda message: events.append(message.event))
    return worker_id, events


async def test_i_sends_one_create_tags_one_event_and_no_snapshot(fleet, core):
    app = CmltuiApp(service_over(core), core.config, fleet.clock, start_backend=False)
    async with app.run_test(size=SIZE) as pilot:
        worker_id, events = await _start(app, pilot, "cml-nearpause-05")
        idle_panel = app.query_one("#idle", IdleStatusPanel)
        assert "Detection   ON" in idle_panel.plain()
        cycles, started = core.collector.cycles, app.cycles_started
        core.aws.calls.reset()
        await pilot.press("i")
        await settle(app, pilot)
        assert _ops(core) == {"CreateTags": 1}
        assert len(events) == 1 and isinstance(events[0], IdleDetectionToggled)
        assert events[0].worker_id == worker_id and events[0].is_enabled is False
        assert (core.collector.cycles, app.cycles_started) == (cycles, started)
        assert "Detection   OFF (unconfirmed)" in idle_panel.plain()
        # the next snapshot reads the tag back and confirms it
        await app.backend.collect()
        await pilot.pause()
        assert "Detection   OFF (by tag)" in idle_panel.plain()
        await pilot.press("i")  # and back, for the other tests of the module
        await settle(app, pilot)
        assert _ops(core)["CreateTags"] == 2


async def test_pause_and_resume_default_to_no_then_yes_sends_one_call(fleet, core):
    app = CmltuiApp(service_over(core), core.config, fleet.clock, start_backend=False)
    async with app.run_test(size=SIZE) as pilot:
        worker_id, events = await _start(app, pilot, "cml-idle-03")
        core.aws.calls.reset()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmActionScreen)
        await pilot.press("enter")  # the default answer: No
        await settle(app, pilot)
        assert "StopInstances" not in _ops(core) and events == []

        cycles = core.collector.cycles
        await pilot.press("p", "y")
        await settle(app, pilot)
        assert _ops(core).get("StopInstances") == 1
        assert len(events) == 1 and events[0].type == "worker.paused"
        assert app.view.status_word(worker_id) == "stopping…"
        assert core.collector.cycles == cycles  # the action built no snapshot
        fleet.step()
        await fleet.sync()
        await app.backend.collect()
        await pilot.pause()
        assert app.view.status_word(worker_id) == "stopped"
        assert "by tester (manual)" in app.query_one("#pause", PausePanel).plain()

        core.aws.calls.reset()
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("escape")
        await settle(app, pilot)
        assert "StartInstances" not in _ops(core)
        await pilot.press("r", "y")
        await settle(app, pilot)
        assert _ops(core).get("StartInstances") == 1
        assert app.view.status_word(worker_id) == "starting…"
        assert [e.type for e in events] == ["worker.paused", "worker.resumed"]


async def test_access_denied_is_an_error_and_changes_nothing_on_screen(fleet, core):
    app = CmltuiApp(service_over(core), core.config, fleet.clock, start_backend=False)
    async with app.run_test(size=SIZE) as pilot:
        worker_id, events = await _start(app, pilot, "cml-busy-01")
        pause_panel = app.query_one("#pause", PausePanel)
        row, panel = app.table.row_text(worker_id), pause_panel.plain()
        ec2 = core.aws.client("ec2", core.config.aws.regions[0])
        with Stubber(ec2) as stub:
            stub.add_response("describe_instances", described_reply(worker_id, "running"))
            stub.add_client_error(
                "stop_instances",
                "UnauthorizedOperation",
                "You are not authorized to perform this operation.",
            )
            await pilot.press("p", "y")
            await settle(app, pilot)
            stub.assert_no_pending_responses()
        errors = [n for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and errors[0].title == "Pause failed"
        assert "UnauthorizedOperation" in errors[0].message
        assert events == []
        assert app.table.row_text(worker_id) == row and pause_panel.plain() == panel
        assert app.view.status_word(worker_id) == "running"
        assert not core.actions.in_flight(worker_id) and app.operator.in_flight == set()


async def test_a_stop_whose_history_tags_fail_stands_and_warns(fleet, core):
    app = CmltuiApp(service_over(core), core.config, fleet.clock, start_backend=False)
    name = "cml-unreg-12"
    async with app.run_test(size=SIZE) as pilot:
        worker_id, events = await _start(app, pilot, name)
        ec2 = core.aws.client("ec2", core.config.aws.regions[0])
        real = ec2.stop_instances(InstanceIds=[worker_id])
        ec2.start_instances(InstanceIds=[worker_id])
        try:
            with Stubber(ec2) as stub:
                stub.add_response("describe_instances", described_reply(worker_id, "running"))
                stub.add_response(
                    "stop_instances", {"StoppingInstances": real["StoppingInstances"]}
                )
                stub.add_client_error("create_tags", "UnauthorizedOperation", "no tags for you")
                await pilot.press("p", "y")
                await settle(app, pilot)
            assert app.view.status_word(worker_id) == "stopping…"  # the stop stands
            warnings = [n.message for n in app._notifications if n.severity == "warning"]
            assert any(f"{name}: history tags not written" in m for m in warnings)
            assert [e.type for e in events] == ["worker.paused"]
        finally:
            ec2.start_instances(InstanceIds=[worker_id])


async def test_bulk_pause_sends_one_stop_per_region_and_audits_every_worker(fleet, core, tmp_path):
    """Marks, `P`, one confirmation (Tab+Enter cannot confirm it), then one StopInstances for
    the region and an intent and a result line per worker in the audit log."""
    app = CmltuiApp(service_over(core), core.config, fleet.clock, start_backend=False)
    names = ("cml-eval-10", "cml-expired-11")
    ids: list[str] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            first, events = await _start(app, pilot, names[0])
            ids = [first, next(d.id for d in app.latest.workers if d.name == names[1])]
            await pilot.press("space")
            app.table.move_to(ids[1])
            await pilot.pause()
            await pilot.press("space")
            assert set(app.table.marked) == set(ids)
            core.aws.calls.reset()
            await pilot.press("P")
            await pilot.pause()
            assert isinstance(app.screen, BulkPauseScreen)
            await pilot.press("tab", "enter")  # never a yes by accident
            await settle(app, pilot)
            assert not isinstance(app.screen, BulkPauseScreen)
            assert _ops(core) == {}
            await pilot.press("P")
            await pilot.pause()
            await pilot.press("y")
            await settle(app, pilot)
            ops = _ops(core)
            assert ops["StopInstances"] == 1  # both workers are in one region: one call
            assert ops["DescribeInstances"] == 1  # their state re-read once, right before
            assert ops["CreateTags"] == 2  # each worker's own history tags
            paused = sorted(e.worker_id for e in events if e.type == "worker.paused")
            assert paused == sorted(ids)
        audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        for worker_id in ids:
            mine = [(a["action"], a["result"]) for a in audit if a["instance_id"] == worker_id]
            assert mine == [("pause", "intent"), ("pause", "ok")]
    finally:
        if ids:
            ec2 = core.aws.client("ec2", core.config.aws.regions[0])
            ec2.start_instances(InstanceIds=ids)
