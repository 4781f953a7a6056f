"""One bad Cloud Manager event never drops the stream, and Cloud Manager's state stays bounded.

Every class of poisoned event is sent on a live stream, followed by a good one that must arrive
on the same connection. Bounds: unknown event types are counted, not kept; the fleet and the
seen-set respect their cap; an over-long id is refused, never cut into a collision; building a
large fleet's snapshot yields to the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

import pytest

from cmltui.backends.ccm.backend import PUBLISH_CHUNK
from cmltui.backends.ccm.stream import StreamEvent
from cmltui.clock import ManualClock
from cmltui.sim.ccm_model import CcmModel, Outgoing
from cmltui.sim.ccm_server import CcmSimulator

from .ccm_helpers import make_backend, wait_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BUSY = "cml-busy-01"





def _frame(event: str, data: str | bytes) -> bytes:
    body = data if isinstance(data, bytes) else data.encode()
    return b"event: " + event.encode() + b"\ndata: " + body + b"\n\n"


def _envelope(kind: str, data: object, time: object = "2026-03-02T09:00:00+00:00Z") -> str:
    return json.dumps({"type": kind, "source": "x", "time": time, "data": data})


def _snapshot(sim: CcmSimulator, worker_name: str = BUSY, **changes: object) -> dict[str, object]:
    worker = sim.model.by_name(worker_name)
    return {**sim.model.snapshot(worker, T0), **changes}


DEEP = "[" * 200_000 + "]" * 200_000
HUGE = "9" * 401
POISONS: dict[str, object] = {
    "snapshot nested 200,000 levels": lambda s: _frame(
        "worker.snapshot", '{"type": "worker.snapshot", "data": {"id": ' + DEEP + "}}"
    ),
    "envelope nested past the limit": lambda s: _frame(
        "worker.paused", _envelope("worker.paused", {"a": json.loads("[" * 40 + "]" * 40)})
    ),
    "envelope time in year 1": lambda s: _frame(
        "worker.snapshot",
        _envelope(
            "worker.snapshot", _snapshot(s, cpu_utilization=1.0), time="0001-01-01T00:00:00+01:00"
        ),
    ),
    "pause with a 401-digit idle duration": lambda s: _frame(
        "worker.paused",
        '{"type": "worker.paused", "time": "2026-03-02T09:00:00Z", "data": {"worker_id": "'
        + s.model.by_name("cml-labs-02").id
        + '", "paused_at": "2026-03-02T09:00:00Z", "idle_duration_minutes": '
        + HUGE
        + ', "manual_pause_count": '
        + HUGE
        + "}}",
    ),
    "snapshot with numbers beyond float": lambda s: _frame(
        "worker.snapshot",
        _envelope("worker.snapshot", _snapshot(s)).replace(
            '"auto_pause_count": 0', '"auto_pause_count": ' + HUGE + ', "cpu_utilization": 1e400'
        ),
    ),
    "NaN and Infinity": lambda s: _frame(
        "worker.metrics.updated",
        '{"type": "worker.metrics.updated", "data": {"worker_id": "'
        + s.model.by_name(BUSY).id
        + '", "cpu_utilization": NaN, "memory_utilization": -Infinity}}',
    ),
    "bad UTF-8": lambda s: _frame(
        "worker.snapshot", b'{"type": "\xff\xfe", "data": {"id": "\xc3"}}'
    ),
    "malformed JSON": lambda s: _frame("worker.snapshot", '{"type": "worker.snap'),
    "data not an object": lambda s: _frame("worker.snapshot", _envelope("worker.snapshot", [1])),
    "wrong types everywhere": lambda s: _frame(
        "worker.snapshot",
        _envelope(
            "worker.snapshot",
            {"id": {"x": 1}, "status": [], "name": 5, "updated_at": True, "aws_tags": "x"},
        ),
    ),
    "snapshot of the right id with wrong types": lambda s: _frame(
        "worker.snapshot",
        _envelope(
            "worker.snapshot",
            _snapshot(
                s,
                "cml-labs-02",
                status=["running"],
                name={"a": 1},
                cml_system_info=[1, 2],
                aws_tags=[["Name", "x"]],
                updated_at="2026-03-02T09:00:01+00:00",
            ),
        ),
    ),
    "an activity event with a list for its worker": lambda s: _frame(
        "worker.activity.updated",
        _envelope("worker.activity.updated", {"worker_id": [1], "last_activity_check_at": 5}),
    ),
    "a labs event of garbage": lambda s: _frame(
        "worker.labs.updated",
        _envelope(
            "worker.labs.updated",
            {"worker_id": s.model.by_name(BUSY).id, "lab_id": {"a": 1}, "action": 7},
        ),
    ),
    "an event type nested as an object": lambda s: _frame(
        "x", json.dumps({"type": {"a": 1}, "data": {"worker_id": "x"}})
    ),
}


@pytest.mark.parametrize("poison", sorted(POISONS))
async def test_one_poisoned_event_never_drops_the_stream_and_the_next_arrives(live, sim, poison):
    backend, recorder = live
    sim.send_raw(POISONS[poison](sim))  # type: ignore[operator]
    busy = sim.model.by_name(BUSY)
    _answer, events = sim.model.set_idle_detection(busy, False, "bob", T0)
    sim.emit(events)
    await wait_for(lambda: any(getattr(e, "toggled_by", None) == "bob" for e in recorder.activity))
    assert sim.connects == 1 and backend.stream is not None and backend.stream.connections == 1
    assert "reconnecting" not in recorder.states()
    shown = {d.name: d for d in backend.publish().workers}
    assert shown[BUSY].is_idle_detection_enabled is False
    assert len(shown) == 12  # every worker still listed
    json.dumps([d.model_dump(mode="json") for d in shown.values()], allow_nan=False)


async def test_a_deeply_nested_answer_to_a_pause_still_writes_the_audit_result(live, sim):
    backend, _ = live
    sim.action_body = DEEP.encode()  # the pause is done, its answer cannot be read
    busy = sim.model.by_name(BUSY)
    paused = await backend.pause(busy.id)
    assert paused.worker_id == busy.id
    lines = [json.loads(x) for x in backend.audit.path.read_text().splitlines()]
    assert [(x["action"], x["result"]) for x in lines] == [("pause", "intent"), ("pause", "ok")]


async def test_an_action_whose_answer_breaks_in_an_unexpected_way_still_gets_a_result(
    live, sim, monkeypatch
):
    backend, _ = live
    api = backend._open_api()

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RecursionError("a parser nobody expected to fail")

    monkeypatch.setattr(api, "action", broken)
    with pytest.raises(Exception, match="failed"):
        await backend.pause(sim.model.by_name(BUSY).id)
    lines = [json.loads(x) for x in backend.audit.path.read_text().splitlines()]
    assert [x["result"] for x in lines] == ["intent", "failed"]
    assert lines[-1]["error"] == "RecursionError"


# --- bounded state ------------------------------------------------------------------------------


async def test_unknown_event_types_are_counted_not_kept(live, sim, caplog):
    backend, recorder = live
    caplog.set_level(logging.INFO, logger="cmltui.backends.ccm")
    for i in range(60_000):  # straight to the handler: 60,000 frames over TLS take too long
        await backend._on_event(StreamEvent(f"x.kind.{i}", None, None, {"worker_id": "w"}))
    for i in range(300):  # and some through the stream itself
        sim.broadcast(Outgoing(f"y.kind.{i}", {"worker_id": "w"}))
    await wait_for(lambda: backend.unknown_types.count == 60_300)
    assert len(backend.unknown_types.kinds) == 10
    lines = [r for r in caplog.records if "kind" in r.getMessage()]
    assert len(lines) <= 10 + 1 + 5  # ten named, one "counted from now on", a few counts
    assert "60000" not in caplog.text or "more" in caplog.text
    assert recorder.states()[-1] == "ok"


async def test_the_fleet_and_the_seen_set_respect_the_cap(live, sim):
    backend, _ = live
    backend.fleet.max_workers = 20
    template = sim.model.snapshot(sim.model.by_name(BUSY), T0)
    for i in range(40):
        payload = {**template, "id": f"extra-{i:03d}", "name": f"extra-{i}"}
        sim.broadcast(Outgoing("worker.snapshot", payload, "domain.cml_worker.snapshot"))
    await wait_for(lambda: backend.fleet.refused.count >= 40 - 8)
    assert len(backend.fleet) == 20
    assert len(backend._seen_this_connection) <= 20
    assert set(backend._seen_this_connection) <= set(backend.fleet.ids())


async def test_an_id_longer_than_the_limit_is_refused_never_cut_into_a_collision(live, sim):
    backend, _ = live
    template = sim.model.snapshot(sim.model.by_name(BUSY), T0)
    prefix = "w" * 128
    for suffix in ("-a", "-b"):
        payload = {**template, "id": prefix + suffix, "name": "long" + suffix}
        sim.broadcast(Outgoing("worker.snapshot", payload, "domain.cml_worker.snapshot"))
    exact = {**template, "id": prefix, "name": "exactly-128"}
    sim.broadcast(Outgoing("worker.snapshot", exact, "domain.cml_worker.snapshot"))
    await wait_for(lambda: prefix in backend.fleet)
    names = {d.name for d in backend.publish().workers}
    assert "exactly-128" in names and not names & {"long-a", "long-b"}
    assert all(len(worker_id) <= 128 for worker_id in backend.fleet.ids())
    assert backend.fleet.refused.count >= 2


async def test_building_a_large_fleets_snapshot_yields_to_the_event_loop(tmp_path):
    """Functional, not timed (the timing is in benchmarks/ccm_publish.py): other tasks run
    between chunks of workers while the snapshot is built."""
    model = CcmModel(2_000, 0, T0)
    sim = CcmSimulator(workers=0, clock=ManualClock(T0), model=model)
    sim.port, sim.ca_file = 1, tmp_path / "ca.pem"
    backend = make_backend(sim, tmp_path)
    for worker in model.workers.values():
        backend.fleet.store(model.snapshot(worker, T0), T0, "us-east-1")
    turns = 0
    done = False

    async def other_task() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    probe = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    turns = 0
    snapshot = await backend.publish_async()
    done = True
    await probe
    assert len(snapshot.workers) == 2_000
    assert turns >= 2_000 // PUBLISH_CHUNK - 1
