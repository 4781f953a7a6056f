"""The dashboard with dates at the edge of the calendar, in zones where they cannot be shown.

`9999-12-31T23:59:59Z` is past the end of the calendar in Tokyo, and `0001-01-01T00:00:00Z`
before its start in New York: showing either used to crash the app with a traceback as soon as
the cursor reached the worker. Here the pause tags carry them through the real core (moto and the
CML simulator), and the cursor, the detail screen and the resume dialog go over that worker. A
scripted backend then hands the widgets such times directly, as another backend could.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
import pytest_asyncio
from textual.widgets import Static

from cmltui.backends.direct.wiring import Core
from cmltui.clock import ManualClock
from cmltui.domain.enums import PauseReason, WorkerStatus
from cmltui.domain.worker import PauseHistory
from cmltui.sim import SimulatedFleet
from cmltui.tui.app import CmltuiApp
from cmltui.tui.confirm import ConfirmActionScreen
from cmltui.tui.detail import WorkerDetailScreen
from cmltui.tui.panels import PausePanel
from tests.backends.direct.sim_core import T0, make_core
from tests.tui.test_actions_core import service_over
from tests.tui.tui_fleet import by_name

pytestmark = pytest.mark.asyncio(loop_scope="module")
SIZE = (160, 48)
CASES = [
    ("Asia/Tokyo", "9999-12-31T23:59:59Z"),
    ("America/New_York", "0001-01-01T00:00:00Z"),
    ("Asia/Tokyo", "9999-12-31T23:59:59-01:00"),
    ("America/New_York", "0001-01-01T00:00:00+05:00"),
]
STOPPED, RUNNING, LICENSED = "cml-stopped-06", "cml-busy-01", "cml-labs-02"


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """The local zone for one test (the dashboard tests' UTC is put back afterwards)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


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


def tag(fleet: SimulatedFleet, name: str, value: str) -> None:
    ec2 = boto3.client(
        "ec2",
        region_name=fleet.region,
        endpoint_url=fleet.aws_endpoint_url,
        **fleet.aws_credentials,
    )
    ec2.create_tags(
        Resources=[fleet.worker(name).instance_id],
        Tags=[
            {"Key": "cmltui:last-paused-at", "Value": value},
            {"Key": "cmltui:last-resumed-at", "Value": value},
            {"Key": "cmltui:pause-reason", "Value": "manual"},
        ],
    )


def shown(screen, widget_id: str) -> str:
    return str(screen.query_one(widget_id, Static).content)


@pytest.mark.parametrize(("zone", "payload"), CASES, indirect=["zone"])
async def test_extreme_pause_tags_never_crash_the_dashboard(fleet, core, zone, payload):
    tag(fleet, STOPPED, payload)
    tag(fleet, RUNNING, payload)
    licensed = fleet.worker(LICENSED).model
    licensed.license_expires = payload
    app = CmltuiApp(service_over(core), core.config, fleet.clock, start_backend=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await app.backend.collect()
            await pilot.pause()
            await walk_over_the_poisoned_workers(app, pilot, payload)
    finally:
        licensed.license_expires = None


async def walk_over_the_poisoned_workers(app: CmltuiApp, pilot, payload: str) -> None:
    """Cursor, detail screen and resume dialog over every worker a bad date was put on."""
    assert len(app.table.order) == 12
    licence_id = next(d.id for d in app.latest.workers if d.name == LICENSED)
    assert app.table.row_text(licence_id).rstrip().endswith(" ?")  # LICENSE, the last column
    app.table.move_to(licence_id)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert re.search(r"\nLicence +\? \(an expiry could not be read", shown(app.screen, "#cml"))
    assert "authorization.expires" in shown(app.screen, "#errors")
    await pilot.press("escape")
    await pilot.pause()
    for name in (RUNNING, STOPPED):
        worker_id = next(d.id for d in app.latest.workers if d.name == name)
        dto = app.view.dto(worker_id)
        assert dto is not None and dto.last_resumed_at is None
        # unknown; a stopped worker shows EC2's own stop time instead (an external stop)
        assert dto.last_paused_at is None or dto.last_paused_at.year == T0.year
        app.table.move_to(worker_id)
        await pilot.pause()
        panel = app.query_one("#pause", PausePanel).plain()
        assert "Last resume ? by" in panel  # unknown, not "never"
        if name == RUNNING:
            assert "Last pause  ? by" in panel
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkerDetailScreen)
        errors = shown(app.screen, "#errors")
        assert "cmltui:last-paused-at" in errors and payload in errors
        assert "Last resume ? by" in app.screen.query_one("#pause", PausePanel).plain()
        await pilot.press("escape")
        await pilot.pause()
    await pilot.press("r")  # the cursor is on the stopped worker
    await pilot.pause()
    assert isinstance(app.screen, ConfirmActionScreen)
    await pilot.press("n")
    await pilot.pause()
    assert not isinstance(app.screen, ConfirmActionScreen)
    assert app.return_code is None  # still running: nothing crashed


ODD = {
    "Asia/Tokyo": datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    "America/New_York": datetime(1, 1, 1, tzinfo=UTC),
}


@pytest.mark.parametrize("zone", list(ODD), indirect=True)
async def test_widgets_show_a_time_their_zone_cannot_hold_as_unknown(make_app, workers, zone):
    """Another backend could hand the dashboard such a time: every widget shows it as `?`."""
    stopped = by_name(workers, "stopped")
    busy = by_name(workers, "busy")
    for worker in (stopped, busy):
        worker.history = PauseHistory(
            manual_pause_count=1,
            last_paused_at=ODD[zone],
            last_paused_by="bob",
            pause_reason=PauseReason.MANUAL,
        )
    assert stopped.status is WorkerStatus.STOPPED
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await backend.collect()
        await pilot.pause()
        for worker in (busy, stopped):
            app.table.move_to(worker.instance_id)
            await pilot.pause()
            assert "Last pause  ? by bob" in app.query_one("#pause", PausePanel).plain()
            await pilot.press("enter")
            await pilot.pause()
            assert "? by bob" in app.screen.query_one("#pause", PausePanel).plain()
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmActionScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.return_code is None
