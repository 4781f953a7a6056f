"""The dashboard on a Cloud Manager (Pilot): the header names the source and its state, the
table is filled from the stream, marked stale while the stream is down, and no token shows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmltui.clock import SystemClock
from cmltui.domain.enums import LicenseStatus
from cmltui.sim.ccm_server import CcmSimulator
from cmltui.tui.app import CmltuiApp
from cmltui.tui.header import FleetHeader

from .ccm_helpers import FAST, make_backend, wait_for

SIZE = (160, 40)


@pytest.fixture(autouse=True)
def utc_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _screen_text(app: CmltuiApp) -> str:
    header = app.query_one(FleetHeader).build(SIZE[0]).plain
    return header + "\n" + app.export_screenshot()


async def test_header_table_stale_marker_and_no_token_on_screen(tmp_path: Path):
    async with CcmSimulator(workers=12, seed=0, tick_s=3600) as sim:
        backend = make_backend(sim, tmp_path, timing=FAST)
        app = CmltuiApp(backend, backend.config, SystemClock())
        secrets = [w.license_token for w in sim.model.workers.values()]
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.latest is not None and len(app.latest.workers) == 12, 10)
            await pilot.pause()
            header = app.query_one(FleetHeader).build(SIZE[0]).plain
            assert f"ccm {sim.url}" in header and "connected" in header
            assert "profile" not in header
            assert "STALE" not in str(app.table.border_title)
            text = _screen_text(app)
            assert "cml-busy-01" in text
            assert "license_token" not in text and not any(s in text for s in secrets)

            sim.unavailable_for(2.0)  # the stream drops and cannot come back for 2 s
            await wait_for(lambda: "reconnecting" in _screen_text(app), 5)
            assert "STALE" in str(app.table.border_title)
            assert "cml-busy-01" in app.export_screenshot()  # the last data stays on show
            assert app.table.has_class("-stale")

            await wait_for(lambda: "connected" in _screen_text(app).split("\n", 1)[0], 10)
            await wait_for(lambda: "STALE" not in str(app.table.border_title), 5)
            assert "reconnecting" not in _screen_text(app).split("\n", 1)[0]
            assert not any(s in _screen_text(app) for s in secrets)
        await backend.close()


async def test_licence_events_and_a_null_actor_read_in_the_activity_log(tmp_path: Path):
    """Upstream's licence events (`cml_worker_license_events.py`) are told in the log, and a
    pause through its REST route (no user passed) reads "by unknown", never "by None"."""
    async with CcmSimulator(workers=12, seed=0, tick_s=3600) as sim:
        backend = make_backend(sim, tmp_path, timing=FAST)
        app = CmltuiApp(backend, backend.config, SystemClock())
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.latest is not None and len(app.latest.workers) == 12, 10)
            worker = sim.model.by_name("cml-unreg-12")
            now = sim.clock.now()
            sim.emit(sim.model.licence_registration(worker, "sub-1", now, error="no \x1b[2Jseat"))
            sim.emit(sim.model.stop(sim.model.by_name("cml-busy-01"), None, now))

            def log_text() -> str:
                return "\n".join(str(line.text) for line in app.activity_log.lines)

            await wait_for(lambda: "cml-busy-01: pause" in log_text(), 10)
            await pilot.pause()
            text = log_text()
            assert "cml-unreg-12: licence registration started by sub-1" in text
            assert "cml-unreg-12: licence registration failed by sub-1: no ␛[2Jseat" in text
            assert "cml-busy-01: pause (manual) by unknown" in text and "None" not in text
        await backend.close()


async def test_a_deregistration_shows_accepted_at_once_and_the_licence_unregistered(
    tmp_path: Path,
):
    """Cloud Manager's job sends no licence event: the log tells its 202, and the table shows
    the licence held as unregistered while Cloud Manager's snapshot still says registered."""
    async with CcmSimulator(workers=12, seed=0, tick_s=3600) as sim:
        sim.licence_poll_s = 3600.0  # CML's DELETE still under way for the whole test
        backend = make_backend(sim, tmp_path, timing=FAST)
        app = CmltuiApp(backend, backend.config, SystemClock())
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.latest is not None and len(app.latest.workers) == 12, 10)
            worker = sim.model.by_name("cml-busy-01")

            def shown() -> LicenseStatus | None:
                return next(d for d in app.latest.workers if d.id == worker.id).license_status

            assert shown() is LicenseStatus.REGISTERED
            before = app.export_screenshot().count("unregistered")  # cml-unreg-12's row
            await backend.deregister_licence(worker.id)

            def log_text() -> str:
                return "\n".join(str(line.text) for line in app.activity_log.lines)

            await wait_for(lambda: "cml-busy-01: licence deregistered by tester" in log_text(), 10)
            assert "accepted by Cloud Manager (202); its job runs on" in log_text()
            await wait_for(lambda: shown() is LicenseStatus.UNREGISTERED, 10)
            await pilot.pause()
            # its row and the detail panel (cml-busy-01 is the selected row) now say it too
            assert app.export_screenshot().count("unregistered") == before + 2
            assert backend.fleet.entries[worker.id].payload["license_status"] == "registered"
        await backend.close()
