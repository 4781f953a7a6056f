"""`cmltui run --ccm URL` in a real terminal while the stream drops mid-session."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from cmltui.sim.ccm_server import CcmSimulator
from tests.cli.test_snapshot import clean_env
from tests.pty_reading import spawn

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pty")


class SimThread:
    """The simulator on its own event loop in a thread, so a sync test can drive a pty."""

    def __init__(self, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sim = CcmSimulator(**kwargs)
        self.call_async(self.sim.start())

    def call_async(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def call(self, fn: Callable[[], Any]) -> Any:
        done: Future[Any] = Future()
        self.loop.call_soon_threadsafe(lambda: done.set_result(fn()))
        return done.result(10)

    def close(self) -> None:
        self.call_async(self.sim.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def sim() -> Iterator[SimThread]:
    runner = SimThread(workers=6, seed=0, tick_s=3600)
    try:
        yield runner
    finally:
        runner.close()


def last_title(plain: bytes) -> bytes:
    return plain[plain.rindex(b"Workers") :][:60]


def test_stream_drop_shows_reconnecting_and_stale_rows_until_it_is_back(sim, tmp_path):
    env = clean_env(
        tmp_path,
        TERM="xterm-256color",
        COLUMNS="160",
        LINES="40",
        TZ="UTC",
        CMLTUI_CCM_TOKEN=sim.sim.token,
        CMLTUI_CCM_CA_BUNDLE=str(sim.sim.ca_file),
    )
    argv = [sys.executable, "-m", "cmltui", "run", "--ccm", sim.sim.url, "--interval", "2"]
    with spawn(argv, env) as term:
        term.expect(b"cml-busy-01", 60, start=0)
        term.expect(b"connected", 20, start=0)
        dropped = len(term.seen)
        sim.call(lambda: sim.sim.unavailable_for(4.0))  # dropped; 503 for 4 s
        term.expect(b"reconnecting", 20, start=dropped)
        term.expect(b"STALE", 20, start=dropped)
        stale = len(term.seen)
        back = term.expect(b"connected", 30, start=stale)
        assert b"token" not in back.lower()
        # Back on the stream: the next fleet snapshot repaints the title without the marker.
        deadline = time.monotonic() + 15
        while b"STALE" in last_title(term.expect(b"sort NAME", 15, start=stale)):
            assert time.monotonic() < deadline, "the stale marker stayed after reconnecting"
            term.expect(b"Workers", 5)  # the next title repaint
        assert sim.call(lambda: sim.sim.connects) >= 2
        assert not any(
            w.license_token.encode() in term.seen for w in sim.sim.model.workers.values()
        )
        term.write(b"q")
        term.proc.wait(15)
