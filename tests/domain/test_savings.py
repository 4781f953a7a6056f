"""Savings on a stepped clock: pause → resume → pause, an external stop, no hour counted twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cmltui.api.cost import cost_breakdown, cost_totals
from cmltui.audit import AuditLog
from cmltui.backends.direct.savings import SavingsLedger, pause_entries
from cmltui.clock import ManualClock
from cmltui.domain.enums import PauseReason, WorkerStatus
from cmltui.domain.history import derive_external
from cmltui.domain.prices import ConfiguredPrices, StaticPrices
from cmltui.domain.savings import (
    Basis,
    SavingKind,
    StopInterval,
    audit_intervals,
    merge,
    savings,
    worker_intervals,
)
from cmltui.domain.worker import CMLWorker, PauseHistory
from cmltui.mapper import MapContext, map_worker_to_dto

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
PRICE = 4.0
WID = "i-0aaaaaaaaaaaaaaa1"


def record(audit: AuditLog, clock: ManualClock, action: str, result: str = "ok") -> None:
    """An action as cmltui audits it: the intent line before the AWS call, then the result."""
    for line in ("intent", result):
        audit.record(
            at=clock.now(),
            operator="alice",
            action=action,
            worker_id=WID,
            worker_name="cml-a",
            region="us-east-1",
            result=line,
        )


def test_pause_resume_pause_then_an_external_stop(tmp_path):
    """The whole story on one stepped clock, read back from the audit file like a new process."""
    clock = ManualClock(T0)
    audit = AuditLog(tmp_path / "audit.jsonl")
    history = PauseHistory()

    record(audit, clock, "pause")  # 08:00 manual pause
    clock.advance(hours=2)
    record(audit, clock, "resume")  # 10:00
    history.last_resumed_at = clock.now()
    clock.advance(hours=1)
    record(audit, clock, "pause", result="failed")  # 11:00: AWS refused, nothing stopped
    clock.advance(hours=2)
    record(audit, clock, "auto_pause")  # 13:00: idle detection
    history.last_paused_at = clock.now()
    history.pause_reason = PauseReason.IDLE_TIMEOUT
    clock.advance(hours=3)  # 16:00, still stopped

    ledger = SavingsLedger(AuditLog(tmp_path / "audit.jsonl"))
    ledger.load()
    audited = ledger.by_worker[WID]
    assert [(i.start, i.end, i.kind) for i in audited] == [
        (T0, T0 + timedelta(hours=2), SavingKind.MANUAL),
        (T0 + timedelta(hours=5), None, SavingKind.AUTO),
    ]
    stopped_now = worker_intervals(audited, WorkerStatus.STOPPED, history)
    result = savings(stopped_now, PRICE, clock.now())
    # The auto-pause is in the audit log *and* the tags: its 3 hours count once.
    assert result.hours == {SavingKind.MANUAL: 2.0, SavingKind.AUTO: 3.0}
    assert result.usd() == pytest.approx(20.0)
    assert result.usd(SavingKind.AUTO) == pytest.approx(12.0)
    assert result.usd(SavingKind.MANUAL) == pytest.approx(8.0)
    assert result.since == T0
    assert set(result.basis) == {Basis.AUDIT_LOG, Basis.PAUSE_TAGS}  # both named, counted once

    # 17:00 resumed by someone else's cmltui (tags only, not in this machine's audit log).
    clock.advance(hours=1)
    history.last_resumed_at = clock.now()
    # 19:00 stopped from the AWS console: EC2's state-transition time says when.
    clock.advance(hours=2)
    worker = CMLWorker(WID, "us-east-1", "cml-a", "m5zn.metal", status=WorkerStatus.STOPPED)
    worker.ec2_state_transition_at = clock.now()
    history = derive_external(worker, history)
    assert history.pause_reason is PauseReason.EXTERNAL
    clock.advance(hours=2)  # 21:00
    result = savings(worker_intervals(audited, WorkerStatus.STOPPED, history), PRICE, clock.now())
    assert result.hours == {
        SavingKind.MANUAL: 2.0,
        SavingKind.AUTO: 4.0,  # 13:00 → 17:00, closed by the resume the tags know of
        SavingKind.EXTERNAL: 2.0,  # 19:00 → 21:00
    }
    assert result.usd() == pytest.approx(32.0)
    assert Basis.EC2_STOP_TIME in result.basis


def test_an_open_pause_with_no_known_end_is_left_out_not_guessed():
    audited = [StopInterval(T0, None, SavingKind.MANUAL, Basis.AUDIT_LOG)]
    running = worker_intervals(audited, WorkerStatus.RUNNING, PauseHistory())
    assert running == []
    assert savings(running, PRICE, T0 + timedelta(hours=5)).usd() == 0.0


def test_overlaps_merge_and_the_earlier_start_keeps_its_kind():
    now = T0 + timedelta(hours=10)
    intervals = [
        StopInterval(T0, T0 + timedelta(hours=4), SavingKind.MANUAL, Basis.AUDIT_LOG),
        StopInterval(T0 + timedelta(hours=3), None, SavingKind.EXTERNAL, Basis.EC2_STOP_TIME),
        StopInterval(
            T0 + timedelta(hours=1), T0 + timedelta(hours=2), SavingKind.AUTO, Basis.AUDIT_LOG
        ),
        StopInterval(now + timedelta(hours=1), None, SavingKind.AUTO, Basis.PAUSE_TAGS),  # future
    ]
    merged = merge(intervals, now)
    assert [(m.start, m.end, m.kind) for m in merged] == [(T0, now, SavingKind.MANUAL)]
    assert savings(intervals, PRICE, now).hours == {SavingKind.MANUAL: 10.0}


def test_an_unpriced_worker_has_hours_but_no_dollars():
    result = savings(
        [StopInterval(T0, None, SavingKind.AUTO, Basis.PAUSE_TAGS)], None, T0 + timedelta(hours=2)
    )
    assert result.total_hours == 2.0
    assert result.usd() is None


def test_duplicate_and_failed_records_stop_nothing_more(tmp_path):
    path = tmp_path / "audit.jsonl"
    rows = [
        {"time": T0.isoformat(), "action": "pause", "instance_id": WID, "result": "intent"},
        {"time": T0.isoformat(), "action": "pause", "instance_id": WID, "result": "ok"},
        {
            "time": (T0 + timedelta(minutes=1)).isoformat(),
            "action": "pause",
            "instance_id": WID,
            "result": "intent",
        },
        {
            "time": (T0 + timedelta(minutes=1)).isoformat(),
            "action": "pause",
            "instance_id": WID,
            "result": "ok",
        },
        {
            "time": (T0 + timedelta(hours=1)).isoformat(),
            "action": "resume",
            "instance_id": WID,
            "result": "refused",
        },
        {
            "time": (T0 + timedelta(hours=2)).isoformat(),
            "action": "resume",
            "instance_id": WID,
            "result": "ok, history tags not written",
        },
        {
            "time": (T0 + timedelta(hours=3)).isoformat(),
            "action": "resume",
            "instance_id": WID,
            "result": "ok",
        },
        {"time": "garbage", "action": "pause", "instance_id": WID, "result": "ok"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken line\n")
    (interval,) = audit_intervals(pause_entries(path))[WID]
    assert (interval.start, interval.end) == (T0, T0 + timedelta(hours=2))


def test_only_the_tail_of_a_huge_audit_log_is_read(tmp_path):
    path = tmp_path / "audit.jsonl"
    row = {"time": T0.isoformat(), "action": "pause", "instance_id": WID, "result": "ok"}
    with path.open("w") as handle:
        for _ in range(2000):
            handle.write(json.dumps(row) + "\n")
    entries = pause_entries(path, max_bytes=10_000)
    assert 0 < len(entries) < 200


def test_new_records_reach_the_ledger_after_it_loaded(tmp_path):
    clock = ManualClock(T0)
    audit = AuditLog(tmp_path / "audit.jsonl")
    ledger = SavingsLedger(audit)
    ledger.load()
    record(audit, clock, "pause")
    clock.advance(hours=1)
    record(audit, clock, "resume")
    assert [(i.start, i.end) for i in ledger.by_worker[WID]] == [(T0, T0 + timedelta(hours=1))]
    assert ledger.first_record_at == T0


def worker(
    wid: str, region: str, status: WorkerStatus, owner: str, itype: str = "m5zn.metal"
) -> CMLWorker:
    w = CMLWorker(wid, region, wid, itype, status=status, tags={"Name": wid, "owner": owner})
    return w


def test_dtos_carry_price_source_and_savings_and_totals_say_what_they_leave_out():
    now = T0 + timedelta(hours=6)
    prices = StaticPrices(ConfiguredPrices(by_region={"eu-west-1": {"m5zn.metal": 4.36}}))
    stopped = worker("i-stopped", "us-east-1", WorkerStatus.STOPPED, "alice")
    stopped.history = PauseHistory(last_paused_at=T0, pause_reason=PauseReason.IDLE_TIMEOUT)
    unpriced_stop = worker("i-north-stop", "eu-north-1", WorkerStatus.STOPPED, "bob")
    unpriced_stop.ec2_state_transition_at = T0
    unpriced_stop.history = PauseHistory(last_paused_at=T0, pause_reason=PauseReason.EXTERNAL)
    fleet = [
        worker("i-east", "us-east-1", WorkerStatus.RUNNING, "alice"),
        worker("i-west", "eu-west-1", WorkerStatus.RUNNING, "bob"),
        worker("i-north", "eu-north-1", WorkerStatus.RUNNING, "bob"),
        stopped,
        unpriced_stop,
    ]
    ctx = MapContext(now=now, prices=prices)
    dtos = [map_worker_to_dto(w, ctx) for w in fleet]
    by_id = {d.id: d for d in dtos}
    assert (by_id["i-east"].hourly_price, by_id["i-east"].price_source) == (3.9641, "table")
    assert (by_id["i-west"].hourly_price, by_id["i-west"].price_source) == (4.36, "config")
    assert by_id["i-north"].hourly_cost is None and by_id["i-north"].price_source is None
    assert by_id["i-stopped"].hourly_cost == 0.0
    assert by_id["i-stopped"].savings.auto_usd == pytest.approx(6 * 3.9641, abs=0.01)
    assert by_id["i-stopped"].savings.basis == ["pause tags"]
    assert by_id["i-stopped"].savings.since == T0
    assert by_id["i-north-stop"].savings.saved_usd is None
    assert by_id["i-north-stop"].savings.stopped_hours == 6.0

    totals = cost_totals(dtos)
    assert totals.burn_per_hour == pytest.approx(3.9641 + 4.36)  # eu-north-1 left out
    assert totals.unpriced_running == 1 and totals.unpriced_stopped == 1
    assert totals.unpriced_regions == ("eu-north-1",)
    assert totals.left_out() == "1 running and 1 stopped with no known price (eu-north-1)"
    assert totals.saved_auto_usd == pytest.approx(23.78, abs=0.01)
    assert totals.saved_manual_usd == 0.0
    assert totals.projected_day == pytest.approx(totals.burn_per_hour * 24)
    assert totals.projected_month == pytest.approx(totals.burn_per_hour * 730)
    block = totals.to_dict()
    assert block["unpriced"]["regions"] == ["eu-north-1"]
    assert block["price_sources"] == {"config": 1, "table": 2}

    by_owner = dict(cost_breakdown(dtos, "owner"))
    assert by_owner["bob"].burn_per_hour == pytest.approx(4.36)
    assert by_owner["bob"].unpriced_running == 1
    assert by_owner["alice"].saved_usd == pytest.approx(23.78, abs=0.01)
    by_region = dict(cost_breakdown(dtos, "region"))
    assert by_region["eu-north-1"].burn_per_hour == 0.0
    assert by_region["eu-north-1"].left_out() is not None


def test_idle_burn_is_the_part_idle_workers_burn():
    now = T0 + timedelta(hours=3)
    idle_worker = worker("i-idle", "us-east-1", WorkerStatus.RUNNING, "alice")
    busy = worker("i-busy", "us-east-1", WorkerStatus.RUNNING, "alice", itype="c5.metal")
    for w in (idle_worker, busy):
        w.launch_time = T0
        w.activity.last_activity_check_at = now
    busy.activity.last_activity_at = now - timedelta(minutes=5)
    dtos = [map_worker_to_dto(w, MapContext(now=now)) for w in (idle_worker, busy)]
    assert [d.is_idle for d in dtos] == [True, False]
    totals = cost_totals(dtos)
    assert totals.idle == 1
    assert totals.burn_per_hour == pytest.approx(3.9641 + 4.08)
    assert totals.idle_burn_per_hour == pytest.approx(3.9641)


def forged(path, rows: list[tuple[datetime, str, str]]) -> None:
    """Audit lines as anyone able to write the file could add them."""
    lines = [
        {"time": when.isoformat(), "action": action, "instance_id": WID, "result": result}
        for when, action, result in rows
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def saved_by(path, launched: datetime, now: datetime, status: WorkerStatus) -> float | None:
    """What the worker's DTO says it saved, read through the ledger and the one mapper."""
    ledger = SavingsLedger(AuditLog(path))
    ledger.load()
    w = worker(WID, "us-east-1", status, "alice")
    w.launch_time = w.created_at = launched
    dto = map_worker_to_dto(w, MapContext(now=now, audited=ledger.by_worker))
    return dto.savings.saved_usd


def test_forged_audit_lines_from_before_the_instance_save_nothing(tmp_path):
    """A pause in 2001 and a resume in 2026 once read 'saved $852,031 since 2001' for a worker
    launched hours earlier: a pause older than the instance is not counted, intent or not."""
    path = tmp_path / "audit.jsonl"
    launched = T0 - timedelta(hours=5)
    old = datetime(2001, 1, 1, tzinfo=UTC)
    forged(path, [(old, "pause", "intent"), (old, "pause", "ok"), (T0, "resume", "ok")])
    assert saved_by(path, launched, T0 + timedelta(hours=1), WorkerStatus.RUNNING) == 0.0
    assert saved_by(path, launched, T0 + timedelta(hours=1), WorkerStatus.STOPPED) == 0.0


@pytest.mark.parametrize(
    "intent_at",
    [None, T0 - timedelta(minutes=11), T0 + timedelta(minutes=1)],
    ids=["no-intent", "intent-too-old", "intent-after"],
)
def test_a_pause_without_its_intent_line_is_not_counted(tmp_path, intent_at):
    path = tmp_path / "audit.jsonl"
    rows = [(T0, "pause", "ok"), (T0 + timedelta(hours=2), "resume", "ok")]
    if intent_at is not None:
        rows.append((intent_at, "pause", "intent"))
    forged(path, rows)
    launched = T0 - timedelta(days=3)
    assert saved_by(path, launched, T0 + timedelta(hours=3), WorkerStatus.RUNNING) == 0.0


def test_a_pause_with_its_intent_counts_as_before(tmp_path):
    path = tmp_path / "audit.jsonl"
    forged(
        path,
        [
            (T0 - timedelta(seconds=20), "pause", "intent"),  # the AWS call took 20 s
            (T0, "pause", "ok"),
            (T0 + timedelta(hours=2), "resume", "intent"),
            (T0 + timedelta(hours=2), "resume", "ok"),
        ],
    )
    launched = T0 - timedelta(days=3)
    saved = saved_by(path, launched, T0 + timedelta(hours=3), WorkerStatus.RUNNING)
    assert saved == pytest.approx(2 * 3.9641, abs=0.01)


def test_the_current_stop_starts_no_earlier_than_the_instance():
    """Pause tags (or EC2's stop time) from before the launch count from the launch only."""
    now = T0 + timedelta(hours=4)
    launched = T0
    for history in (
        PauseHistory(
            last_paused_at=datetime(2001, 1, 1, tzinfo=UTC), pause_reason=PauseReason.MANUAL
        ),
        PauseHistory(
            last_paused_at=datetime(2001, 1, 1, tzinfo=UTC), pause_reason=PauseReason.EXTERNAL
        ),
    ):
        w = worker(WID, "us-east-1", WorkerStatus.STOPPED, "alice")
        w.launch_time = w.created_at = launched
        w.history = history
        dto = map_worker_to_dto(w, MapContext(now=now))
        assert dto.savings.stopped_hours == 4.0
        assert dto.savings.since == launched
