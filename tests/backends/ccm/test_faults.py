"""Each injected fault is survived: the state is shown, the stream resumes, nothing is lost or
applied twice, and `license_token` appears in no output."""

from __future__ import annotations

import json
import logging
import shlex
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cmltui.api.backend import SourceStatus
from cmltui.api.dto import worker_dto_to_dict
from cmltui.backends.ccm.backend import CcmBackend, StreamTiming
from cmltui.clock import ManualClock
from cmltui.logging_setup import RedactSecrets
from cmltui.sim.ccm_server import CcmSimulator

from .ccm_helpers import FAST, ccm_config, make_backend, wait_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)



async def _started(backend: CcmBackend, statuses: list[SourceStatus]) -> None:
    backend.subscribe_status(statuses.append)
    await backend.start()
    assert await backend.wait_initial_set(5)


def _change_behind_the_streams_back(sim: CcmSimulator) -> str:
    """Another operator disables idle detection while we are not listening."""
    worker = sim.model.by_name("cml-busy-01")
    worker.idle_enabled = False
    return worker.id


FAULTS: dict[str, Callable[[CcmSimulator], None]] = {
    "drop": lambda s: s.drop_streams(),
    "session_expired": lambda s: s.session_expired(),
    "shutdown": lambda s: s.shutdown_event(),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_fault_is_survived_and_nothing_is_lost_or_applied_twice(sim, tmp_path, fault):
    backend = make_backend(sim, tmp_path)
    statuses: list[SourceStatus] = []
    try:
        await _started(backend, statuses)
        applied_before = dict(backend.applied)
        connects = sim.connects
        changed_id = None

        def after_disconnect() -> bool:
            nonlocal changed_id
            if sim.stream_clients == 0 and changed_id is None:
                changed_id = _change_behind_the_streams_back(sim)
            return changed_id is not None

        FAULTS[fault](sim)
        await wait_for(after_disconnect)
        await wait_for(lambda: sim.connects > connects)
        await wait_for(lambda: backend.applied.get(changed_id) == applied_before[changed_id] + 1)
        assert "reconnecting" in [s.state for s in statuses]
        await wait_for(lambda: statuses[-1].state == "ok")
        snapshot = backend.publish()
        busy = next(d for d in snapshot.workers if d.name == "cml-busy-01")
        assert busy.is_idle_detection_enabled is False  # the change made meanwhile is not lost
        for worker_id, count in applied_before.items():
            if worker_id != changed_id:  # the same snapshot again is not applied twice
                assert backend.applied[worker_id] == count
        if fault == "shutdown":
            assert any(s.detail and "shutting down" in s.detail for s in statuses)
        if fault == "session_expired":
            assert backend.tokens.refreshes >= 1
    finally:
        await backend.close()


async def test_401_on_reconnect_shows_token_rejected_then_recovers(sim, tmp_path):
    backend = make_backend(sim, tmp_path)
    statuses: list[SourceStatus] = []
    try:
        await _started(backend, statuses)
        sim.reject_connects = 2
        sim.drop_streams()
        await wait_for(lambda: statuses[-1].state == "error")
        assert statuses[-1].detail == "token rejected" and statuses[-1].retry_at is not None
        await wait_for(lambda: statuses[-1].state == "ok", timeout=8)
        assert sim.connects == 2
    finally:
        await backend.close()


async def test_a_rejected_token_runs_the_token_command_again(sim, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(sim.token)
    command = f'{shlex.quote(sys.executable)} -c "print(open({str(token_file)!r}).read())"'
    config = ccm_config(sim, token_env=None, token_command=command)
    backend = make_backend(sim, tmp_path, config=config, env={})
    statuses: list[SourceStatus] = []
    try:
        await _started(backend, statuses)
        token_file.write_text(sim.rotate_token())  # the old JWT has expired
        sim.drop_streams()
        await wait_for(lambda: sim.connects == 2)
        await wait_for(lambda: statuses[-1].state == "ok")
        assert backend.tokens.refreshes == 1
        assert "error" not in [s.state for s in statuses]  # refreshed before giving up
    finally:
        await backend.close()


async def test_a_malformed_frame_is_ignored_and_the_stream_goes_on(sim, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    backend = make_backend(sim, tmp_path)
    statuses: list[SourceStatus] = []
    try:
        await _started(backend, statuses)
        sim.malformed_frame()
        sim.malformed_frame()
        worker = sim.model.by_name("cml-busy-01")
        _answer, events = sim.model.set_idle_detection(worker, False, "bob", sim.clock.now())
        sim.emit(events)
        await wait_for(lambda: backend.applied is not None and "malformed JSON" in caplog.text)
        await wait_for(lambda: sim.sent.get("worker.idle_detection.toggled") == 1)
        await wait_for(
            lambda: (
                next(
                    d for d in backend.publish().workers if d.name == "cml-busy-01"
                ).is_idle_detection_enabled
                is False
            )
        )
        assert sim.connects == 1 and statuses[-1].state == "ok"
        assert caplog.text.count("malformed JSON") == 1  # logged once per kind
    finally:
        await backend.close()


async def test_heartbeats_keep_a_quiet_stream_alive_and_silence_kills_it(tmp_path):
    timing = StreamTiming(**{**FAST.__dict__, "silence": 1.0})
    async with CcmSimulator(workers=2, clock=ManualClock(T0), tick_s=3600, heartbeat_s=0.3) as sim:
        backend = make_backend(sim, tmp_path, timing=timing)
        try:
            await _started(backend, [])
            await _sleep(2.5)
            assert sim.connects == 1 and sim.sent.get("heartbeat", 0) >= 3
        finally:
            await backend.close()
    async with CcmSimulator(workers=2, clock=ManualClock(T0), tick_s=3600, heartbeat_s=60) as sim:
        backend = make_backend(sim, tmp_path, timing=timing)
        statuses: list[SourceStatus] = []
        try:
            await _started(backend, statuses)
            await wait_for(lambda: sim.connects >= 2, timeout=5)
            assert any(s.detail == "no data for 1 s" for s in statuses)
        finally:
            await backend.close()


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def test_license_token_reaches_no_output(sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RedactSecrets())
    backend = make_backend(sim, tmp_path)
    statuses: list[SourceStatus] = []
    secrets = [w.license_token for w in sim.model.workers.values()]
    try:
        await _started(backend, statuses)
        worker = sim.model.by_name("cml-busy-01")
        await backend.toggle_idle_detection(worker.id, True)
        sim.drop_streams()
        await wait_for(lambda: sim.connects == 2)
        snapshot = await backend.snapshot_once()
        published = backend.publish()
        outputs = [
            json.dumps(snapshot.to_dict()),
            json.dumps(published.to_dict()),
            json.dumps([e for e in published.event_dicts()]),
            caplog.text,
            Path(backend.audit.path).read_text(),
            repr([entry.payload for entry in backend.fleet.entries.values()]),
        ]
        for text in outputs:
            assert "license_token" not in text
            assert not any(secret in text for secret in secrets)
        assert all("license_token" not in worker_dto_to_dict(d) for d in published.workers)
    finally:
        await backend.close()


async def test_the_worker_list_completes_the_initial_set_and_drops_removed_workers(sim, tmp_path):
    missing = sim.model.by_name("cml-labs-02")
    sim.skip_initial = {missing.id}  # the stream forgets one worker; the list has it
    backend = make_backend(sim, tmp_path)
    statuses: list[SourceStatus] = []
    try:
        await _started(backend, statuses)
        names = {d.name for d in backend.publish().workers}
        assert len(names) == 12 and "cml-labs-02" in names
        assert sim.sent["worker.snapshot"] == 11  # the stream sent the others only
        assert backend.applied[missing.id] == 1  # applied once, from the list
        gone = sim.model.by_name("cml-unreg-12")
        sim.drop_streams()
        del sim.model.workers[gone.id]  # removed from Cloud Manager while we were away
        await wait_for(lambda: sim.connects == 2)
        await wait_for(lambda: "cml-unreg-12" not in {d.name for d in backend.publish().workers})
        assert len(backend.publish().workers) == 11
    finally:
        await backend.close()
