"""An action whose outcome event Cloud Manager never sends ends at once, with an honest answer.

Upstream sends no event when there is nothing to do: `enable_idle_detection_command.py` (and
`disable_…`) answer "Idle detection already enabled" and emit nothing, `stop_cml_worker_command.py`
and `start_…` answer `true` for a worker already stopped or running, and the licence
deregistration job of a worker with no licence fails without a word on the stream. The backend
here waits an hour for an event: an action that waited for one would never end within the test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio

from cmltui.api.backend import ActionRefused
from cmltui.backends.ccm.backend import CcmBackend
from cmltui.sim.ccm_server import CcmSimulator

from .ccm_helpers import FAST, make_backend

pytestmark = pytest.mark.asyncio

AN_HOUR = replace(FAST, action_event_timeout=3600.0, licence_timeout=3600.0)
PROMPT = 30.0
"""Far under the hour the backend would wait for an event: an answer within it did not wait."""


@pytest_asyncio.fixture
async def ready(sim: CcmSimulator, tmp_path) -> AsyncIterator[CcmBackend]:
    backend = make_backend(sim, tmp_path, timing=AN_HOUR)
    try:
        await backend.prepare_actions()
        assert backend._connected  # Cloud Manager's events would come back if it sent them
        yield backend
    finally:
        await backend.close()


def audit(backend: CcmBackend) -> list[tuple[str, str]]:
    path = backend.audit.path
    lines = path.read_text().splitlines() if path.exists() else []
    return [(json.loads(line)["action"], json.loads(line)["result"]) for line in lines]


async def refusal(call) -> str:
    with pytest.raises(ActionRefused) as refused:
        async with asyncio.timeout(PROMPT):
            await call
    return str(refused.value)


@pytest.mark.parametrize(("name", "enabled"), [("cml-labs-02", False), ("cml-busy-01", True)])
async def test_idle_detection_already_so_is_refused_before_anything_is_sent(
    ready, sim, name, enabled
):
    worker = sim.model.by_name(name)
    assert worker.idle_enabled is enabled
    published: list[object] = []
    ready.subscribe_activity(published.append)
    # `idle-detection off` on a worker whose detection is off (the caller saw it on)
    why = await refusal(ready.toggle_idle_detection(worker.id, shown_enabled=not enabled))
    assert why == f"{name}: idle detection is already {'on' if enabled else 'off'}"
    assert not any(route.startswith("idle-detection/") for route in sim.requests)
    assert audit(ready) == [] and published == []
    assert worker.idle_enabled is enabled


async def test_cloud_managers_already_answer_ends_a_toggle_at_once(ready, sim):
    """Shown on, but Cloud Manager has it off already (changed without an event reaching us):
    the route answers "already disabled" and sends nothing more, so cmltui says so at once."""
    worker = sim.model.by_name("cml-busy-01")
    worker.idle_enabled = False  # in Cloud Manager's database only
    published: list[object] = []
    ready.subscribe_activity(published.append)
    why = await refusal(ready.toggle_idle_detection(worker.id, shown_enabled=True))
    assert why.startswith("cml-busy-01: idle detection is already off")
    assert "Cloud Manager" in why
    assert sim.requests.get("idle-detection/disable") == 1
    assert audit(ready) == [
        ("toggle_idle_detection", "intent"),
        ("toggle_idle_detection", "refused"),
    ]
    assert published == []  # no event stands in for a change that did not happen
    shown = next(dto for dto in ready.publish().workers if dto.id == worker.id)
    assert shown.is_idle_detection_enabled is False  # as Cloud Manager answered
    # and the dashboard's next `i` (it now shows off) turns it on, with Cloud Manager's event
    async with asyncio.timeout(PROMPT):
        event = await ready.toggle_idle_detection(worker.id, shown_enabled=False)
    assert event.is_enabled is True and worker.idle_enabled is True


async def test_a_toggle_cloud_manager_makes_still_comes_back_as_its_event(ready, sim):
    worker = sim.model.by_name("cml-labs-02")
    async with asyncio.timeout(PROMPT):
        event = await ready.toggle_idle_detection(worker.id, shown_enabled=False)
    assert (event.is_enabled, event.toggled_by) == (True, "ccm-sim-user")  # the server's own
    assert worker.idle_enabled is True


@pytest.mark.parametrize(
    ("action", "name", "words"),
    [
        ("pause", "cml-stopped-06", "cml-stopped-06 is already stopped"),
        ("resume", "cml-busy-01", "cml-busy-01 is already running"),
    ],
)
async def test_pause_of_a_stopped_and_resume_of_a_running_worker_send_nothing(
    ready, sim, action, name, words
):
    worker = sim.model.by_name(name)
    assert await refusal(getattr(ready, action)(worker.id)) == words
    assert "stop" not in sim.requests and "start" not in sim.requests
    assert audit(ready) == []


async def test_deregistering_a_worker_without_a_licence_sends_nothing(ready, sim):
    worker = sim.model.by_name("cml-unreg-12")
    why = await refusal(ready.deregister_licence(worker.id))
    assert why == "cml-unreg-12 has no registered licence; nothing to deregister"
    assert sim.lab_licence is not None and sim.lab_licence.deregistrations == 0
    assert audit(ready) == []
