"""Back-off that remembers, and a token command that runs at most once a minute.

A flapping Cloud Manager (it accepts the stream, then closes it at once, or ends the session
right after `connected`) is counted over a short window with shrunken clocks: the reconnects
grow as they would over minutes, and the token command is not run again within its gap.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest_asyncio

from cmltui.api.backend import SourceStatus
from cmltui.sim.ccm_server import CcmSimulator

from .ccm_helpers import FAST, ccm_config, make_backend, running_simulator, wait_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = 2.5
# From 0.1 s doubling to 1.6 s: connects at 0, 0.1, 0.3, 0.7, 1.5 (and 3.1) in 2.5 s. Without
# the memory the back-off would restart at 0.1 s on every `connected`: about 25 connects.
FLAPPING = replace(FAST, backoff_min=0.1, backoff_max=1.6, stable_after=60.0)


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[CcmSimulator]:
    async with running_simulator(workers=3) as simulator:
        yield simulator


def _counting_command(tmp_path: Path, token: str) -> str:
    """A token command that prints `token` (read from a file) and counts its runs."""
    (tmp_path / "token").write_text(token)
    script = tmp_path / "token.py"
    script.write_text(
        "import pathlib\n"
        f"here = pathlib.Path({str(tmp_path)!r})\n"
        "with open(here / 'runs', 'a') as runs:\n"
        "    runs.write('run\\n')\n"
        "print((here / 'token').read_text())\n"
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def _runs(tmp_path: Path) -> int:
    runs = tmp_path / "runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


async def test_a_server_that_closes_at_once_gets_a_growing_back_off(sim, tmp_path):
    sim.close_after_connect = True
    backend = make_backend(sim, tmp_path, timing=FLAPPING)
    statuses: list[SourceStatus] = []
    backend.subscribe_status(statuses.append)
    await backend.start()
    try:
        await asyncio.sleep(WINDOW)
        assert 3 <= sim.connects <= 6, sim.connects
        assert sim.requests.get("list", 0) <= sim.connects  # one worker list per connect
        retries = [s.retry_at for s in statuses if s.state == "reconnecting" and s.retry_at]
        assert len(retries) >= 3
    finally:
        await backend.close()


async def test_the_back_off_starts_over_after_a_connection_that_stayed_up(sim, tmp_path):
    timing = replace(FLAPPING, stable_after=0.3)
    backend = make_backend(sim, tmp_path, timing=timing)
    await backend.start()
    try:
        sim.close_after_connect = True  # flaps a while: the delay grows
        sim.drop_streams()
        await wait_for(lambda: sim.connects >= 4, timeout=5)
        assert backend.stream is not None and backend.stream._failures >= 3
        sim.close_after_connect = False  # then one connection stays up past stable_after
        await wait_for(lambda: sim.stream_clients == 1, timeout=5)
        await asyncio.sleep(0.5)
        connects = sim.connects
        sim.drop_streams()
        await wait_for(lambda: sim.connects == connects + 1, timeout=1.0)  # after 0.1 s again
        assert backend.stream._failures <= 1
    finally:
        await backend.close()


async def test_a_session_ended_at_every_connect_runs_the_token_command_once_a_minute(sim, tmp_path):
    sim.expire_after_connect = True  # `auth.session.expired` right after `connected`
    command = _counting_command(tmp_path, sim.token)
    config = ccm_config(sim, token_env=None, token_command=command)
    backend = make_backend(sim, tmp_path, config=config, env={}, timing=FLAPPING)
    await backend.start()
    try:
        await asyncio.sleep(WINDOW)
        assert sim.connects >= 3  # it did flap...
        assert _runs(tmp_path) == 1  # ...and the command ran once: the first token
        assert backend.tokens.command_runs == 1
    finally:
        await backend.close()


async def test_a_new_401_after_a_token_that_worked_runs_the_command_at_once(sim, tmp_path):
    command = _counting_command(tmp_path, sim.token)
    config = ccm_config(sim, token_env=None, token_command=command)
    backend = make_backend(sim, tmp_path, config=config, env={}, timing=FLAPPING)
    statuses: list[SourceStatus] = []
    backend.subscribe_status(statuses.append)
    await backend.start()
    try:
        assert await backend.wait_initial_set(5)
        (tmp_path / "token").write_text(sim.rotate_token())  # the JWT expired
        sim.drop_streams()
        await wait_for(lambda: sim.connects == 2, timeout=5)
        assert _runs(tmp_path) == 2  # within the minute: the old token had been accepted
        await wait_for(lambda: statuses[-1].state == "ok")
    finally:
        await backend.close()


async def test_a_fresh_token_rejected_at_once_is_not_asked_again_within_the_minute(sim, tmp_path):
    command = _counting_command(tmp_path, "a-token-cloud-manager-never-issued")
    config = ccm_config(sim, token_env=None, token_command=command)
    backend = make_backend(sim, tmp_path, config=config, env={}, timing=FLAPPING)
    statuses: list[SourceStatus] = []
    backend.subscribe_status(statuses.append)
    await backend.start()
    try:
        await asyncio.sleep(WINDOW)
        assert sim.stream_requests >= 3  # it kept trying, backing off...
        assert _runs(tmp_path) == 1  # ...without running the command again
        assert statuses[-1].detail == "token rejected"
    finally:
        await backend.close()
