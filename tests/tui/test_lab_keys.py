"""Stopping, starting and wiping a lab from a worker's detail screen.

Over the real core against the simulated fleet: the lab under the labs table's cursor is
stopped only after `y`, CML (seen through virl2-client, the official client) has it stopped,
and the audit log has its lines. Over the scripted backend: the rule's refusals, read-only,
and where the keys work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from cmltui.api.backend import BackendContext
from cmltui.api.events import LabChanged
from cmltui.clock import ManualClock
from cmltui.domain.worker import LabSummary
from cmltui.sim import SimulatedFleet
from cmltui.tui.app import CmltuiApp
from cmltui.tui.confirm import LabConfirmScreen
from cmltui.tui.detail import LabsTable, WorkerDetailScreen
from tests.backends.direct.sim_core import T0, make_core
from tests.tui.pilot_helpers import messages, ready, settle
from tests.tui.test_actions_core import service_over

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning"),
]
SIZE = (160, 48)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fleet() -> AsyncIterator[SimulatedFleet]:
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(T0))
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


def lab_state_in_virl2(fleet: SimulatedFleet, name: str, lab_id: str) -> str:
    """The lab's state as virl2-client sees it on the same simulated worker (blocking)."""
    from virl2_client import ClientLibrary

    client = ClientLibrary(
        fleet.worker(name).cml_url,
        fleet.cml_username,
        fleet.cml_password,
        ssl_verify=str(fleet.ca_file),
        raise_for_auth_failure=True,
    )
    try:
        return client.join_existing_lab(lab_id).state()
    finally:
        client.logout()


async def test_h_then_y_stops_the_selected_lab_in_cmls_own_view(fleet, tmp_path: Path):
    name = "cml-labs-02"
    core = make_core(fleet, tmp_path)
    app = CmltuiApp(service_over(core), core.config, fleet.clock, start_backend=False)
    lab_id = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.backend.collect()
            await pilot.pause()
            worker_id = next(d.id for d in app.latest.workers if d.name == name)
            app.table.move_to(worker_id)
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, WorkerDetailScreen)
            lab_id = screen.selected_lab_id  # running labs come first: the cursor is on one
            lab = next(lab for lab in app.view.dto(worker_id).labs if lab.id == lab_id)
            assert lab.state == "STARTED"
            events = []
            app.bus.activity.subscribe(app, lambda message: events.append(message.event))

            await pilot.press("h")
            await pilot.pause()
            assert isinstance(app.screen, LabConfirmScreen)
            assert app.screen.question == f"Stop lab {lab.title} on {name}?"
            await pilot.press("enter")  # the default answer: No
            await settle(app, pilot)
            assert events == []
            assert await asyncio.to_thread(lab_state_in_virl2, fleet, name, lab_id) == "STARTED"

            await pilot.press("h", "y")
            await settle(app, pilot)
            assert [type(e) for e in events] == [LabChanged]
            assert (events[0].lab_id, events[0].lab_state) == (lab_id, "STOPPED")
            assert await asyncio.to_thread(lab_state_in_virl2, fleet, name, lab_id) == "STOPPED"
            audit = [
                json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()
            ]
            assert [(a["action"], a["result"]) for a in audit] == [
                ("stop_lab", "intent"),
                ("stop_lab", "ok"),
            ]
            assert audit[0]["detail"] == {"lab_id": lab_id, "lab_title": lab.title}
            # the detail screen read its audit entries again, and the next cycle shows the state
            await settle(app, pilot)
            assert any(e["action"] == "stop_lab" for e in screen.audit_entries or ())
            await app.backend.collect()
            await pilot.pause()
            table = screen.query_one(LabsTable)
            assert "STOPPED" in str(table.get_row(lab_id)[2])
            assert screen.selected_lab_id == lab_id  # the cursor stayed on the lab
    finally:
        sim_lab = fleet.worker(name).model.lab(lab_id) if lab_id else None
        if sim_lab is not None:  # put it back for the module's other tests
            fleet.worker(name).model.book.start_lab(sim_lab, sim_lab.owner, fleet.clock.now())
        await core.close()


@pytest.fixture
def labbed(workers):
    """The busy worker with one running and one stopped lab."""
    busy = workers[0]
    busy.cml.labs = [
        LabSummary("lab-run", "OSPF", "u1", "alice", "STARTED", 4),
        LabSummary("lab-off", "BGP", "u2", "bob", "STOPPED", 2),
    ]
    return busy


async def _on_lab(app, pilot, workers, worker, lab_id):
    await ready(app, pilot, workers)
    app.table.move_to(worker.instance_id)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    table = app.screen.query_one(LabsTable)
    table.move_cursor(row=table.get_row_index(lab_id))
    await pilot.pause()


async def test_the_rule_refuses_before_asking_and_t_starts_a_stopped_lab(make_app, workers, labbed):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _on_lab(app, pilot, workers, labbed, "lab-run")
        await pilot.press("w")  # wiping a running lab: refused, no dialog
        await pilot.pause()
        assert isinstance(app.screen, WorkerDetailScreen)
        assert ("warning", "lab OSPF is running (STARTED); stop it before wiping it") in messages(
            app
        )
        await pilot.press("t")  # starting a started one: refused too
        await pilot.pause()
        assert isinstance(app.screen, WorkerDetailScreen)
        app.screen.query_one(LabsTable).move_cursor(row=1)
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, LabConfirmScreen)
        assert "Start lab BGP on" in app.screen.question
        await pilot.press("y")
        await settle(app, pilot)
        assert backend.calls == [("start_lab", labbed.instance_id, "lab-off")]


async def test_read_only_refuses_and_the_keys_do_nothing_on_the_main_screen(
    make_app, workers, labbed
):
    app, backend = make_app(context=BackendContext(profile="lab", read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        app.table.move_to(labbed.instance_id)
        await pilot.press("h", "t", "w")  # not the main screen's keys: nothing at all
        await pilot.pause()
        assert messages(app) == [] and backend.calls == []
        await _on_lab(app, pilot, workers, labbed, "lab-run")
        await pilot.press("h")
        await pilot.pause()
        assert not isinstance(app.screen, LabConfirmScreen)
        assert ("warning", "read-only mode: stop lab not sent") in messages(app)
        assert backend.calls == []
