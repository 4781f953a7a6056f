"""A licence registration under way shows as `registering…` wherever the licence is shown."""

from __future__ import annotations

from datetime import timedelta

from cmltui.api.events import LicenceChanged
from cmltui.config import Config
from cmltui.tui.cml_facts import licence_facts
from cmltui.tui.columns import cells
from cmltui.tui.fleet_view import FleetView
from cmltui.tui.fmt import licence_word
from tests.tui.tui_fleet import NOW, build_workers, by_name, snapshot


def registering(worker):
    worker.cml.licensing = {
        "registration": {"status": "IN_PROGRESS"},
        "authorization": {"status": "NOT_AUTHORIZED"},
    }
    return worker


def test_cmls_in_progress_registration_reads_registering_not_invalid():
    workers = build_workers()
    unreg = registering(by_name(workers, "unreg"))
    dto = next(d for d in snapshot(workers).workers if d.id == unreg.instance_id)
    assert (dto.license_status, dto.license_operation) == ("unregistered", "registering")
    assert licence_word(dto) == "registering…"
    cell = cells(dto, Config().ui.thresholds)["license"]
    assert (cell.text, cell.style) == ("registering…", "cyan")
    assert licence_facts(dto)[0][:2] == ("Licence", "registering…, not authorized")


def test_a_registration_event_holds_registering_until_a_snapshot_settles_it():
    workers = build_workers()
    unreg = by_name(workers, "unreg")
    view = FleetView(timedelta(seconds=30))
    view.apply_snapshot(snapshot(workers, NOW))
    started = LicenceChanged(
        worker_id=unreg.instance_id, step="registration started", at=NOW, by="ann", detail=None
    )
    assert view.apply_event(started)
    assert view.value(unreg.instance_id, "license_operation") == "registering"
    view.apply_snapshot(snapshot(workers, NOW + timedelta(seconds=5)))  # read before: stays
    assert view.value(unreg.instance_id, "license_operation") == "registering"
    registering(unreg)
    view.apply_snapshot(snapshot(workers, NOW + timedelta(seconds=6)))  # CML says so: settled
    assert not view.is_held(unreg.instance_id, "license_operation")
    done = LicenceChanged(
        worker_id=unreg.instance_id,
        step="registration completed",
        at=NOW + timedelta(seconds=9),
        by=None,
        detail="COMPLETED",
    )
    view.apply_event(done)
    assert view.value(unreg.instance_id, "license_operation") is None
