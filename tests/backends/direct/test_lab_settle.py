"""The settle rule holds the state a lab action left against stale collections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cmltui.backends.direct.collector import settle_lab_states
from cmltui.domain.settle import LAB_CONFIRMS, PendingWrite
from cmltui.domain.worker import CMLWorker, LabSummary


def test_a_stale_lab_read_never_undoes_a_lab_action():
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    settle = timedelta(seconds=30)
    worker = CMLWorker("i-1", "us-east-1", "w")
    worker.pending_lab_states["lab-a"] = PendingWrite("STOPPED", at, LAB_CONFIRMS["stop"])
    stale = [
        LabSummary("lab-a", "A", None, None, "STARTED", 3),
        LabSummary("lab-b", "B", None, None, "STARTED", 2),
    ]
    # a read that started before the settle time was over: the action's state stands
    kept = settle_lab_states(worker, stale, at + timedelta(seconds=5), settle)
    assert [lab.state for lab in kept] == ["STOPPED", "STARTED"]
    assert "lab-a" in worker.pending_lab_states
    # a read long after that still disagrees: someone started it again, and it shows
    later = settle_lab_states(worker, stale, at + timedelta(seconds=31), settle)
    assert [lab.state for lab in later] == ["STARTED", "STARTED"]
    assert worker.pending_lab_states == {}
    # a read that agrees (wiped counts as stopped) settles it at once
    worker.pending_lab_states["lab-a"] = PendingWrite("STOPPED", at, LAB_CONFIRMS["stop"])
    wiped = [LabSummary("lab-a", "A", None, None, "DEFINED_ON_CORE", 3)]
    assert settle_lab_states(worker, wiped, at, settle)[0].state == "DEFINED_ON_CORE"
    assert worker.pending_lab_states == {}
