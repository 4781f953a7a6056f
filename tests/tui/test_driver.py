"""The quiet input thread: keys arrive, a lone ESC still resolves, the thread sleeps
while nothing is typed, a stop wakes it, and a terminal that goes away is reported once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import selectors
import sys
import threading
import tty
from typing import Any

import pytest
from textual import events

from cmltui.tui import driver as driver_module
from cmltui.tui.driver import PENDING_SECONDS, QuietLinuxDriver, TerminalLost
from tests.tui.pilot_helpers import until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")


class Inbox:
    """Stands in for the app: collects what the driver posts to it."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def _post_message(self, message: Any) -> bool:
        self.messages.append(message)
        return True

    def keys(self) -> list[str]:
        return [m.key for m in self.messages if isinstance(m, events.Key)]

    def lost(self) -> int:
        return sum(isinstance(m, TerminalLost) for m in self.messages)


class CountingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The real selector, counting how often the thread woke up."""

    wakeups = 0

    def select(self, timeout: float | None = None) -> Any:
        CountingSelector.wakeups += 1
        return super().select(timeout)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Any:
    master, slave = pty.openpty()
    tty.setraw(slave)  # keys arrive one by one, as in Textual's application mode
    CountingSelector.wakeups = 0
    monkeypatch.setattr(driver_module, "DefaultSelector", CountingSelector)
    yield master, slave
    for fd in (master, slave):
        with contextlib.suppress(OSError):
            os.close(fd)


def _driver(slave: int) -> tuple[QuietLinuxDriver, Inbox, threading.Thread]:
    inbox = Inbox()
    made = QuietLinuxDriver(inbox, mouse=False)  # type: ignore[arg-type]
    made.fileno = slave
    made.input_tty = True
    thread = threading.Thread(target=made.run_input_thread, daemon=True)
    made._key_thread = thread
    thread.start()
    return made, inbox, thread


async def test_keys_arrive_and_the_thread_sleeps_once_typing_stops(terminal):
    master, slave = terminal
    made, inbox, thread = _driver(slave)
    os.write(master, b"a")
    assert await until(lambda: inbox.keys() == ["a"])
    os.write(master, b"\x1b")  # a lone ESC: only the parser's timeout can resolve it
    assert await until(lambda: inbox.keys() == ["a", "escape"])
    await asyncio.sleep(PENDING_SECONDS + 0.3)
    settled = CountingSelector.wakeups
    await asyncio.sleep(1.0)
    assert CountingSelector.wakeups == settled  # asleep: Textual's thread wakes 10 times a second
    made.disable_input()  # a stop wakes it and Textual's join returns
    assert not thread.is_alive()
    made.close()


async def test_a_terminal_that_goes_away_is_reported_once_and_not_spun_on(terminal):
    master, slave = terminal
    made, inbox, thread = _driver(slave)
    os.close(master)  # the far end hangs up: reads now fail
    assert await until(lambda: inbox.lost() == 1)
    woke = CountingSelector.wakeups
    await asyncio.sleep(0.5)
    assert CountingSelector.wakeups <= woke + 1  # no busy loop on the dead descriptor
    assert inbox.lost() == 1
    made.disable_input()
    assert not thread.is_alive()
    made.close()


async def test_end_of_a_piped_input_is_not_a_lost_terminal(terminal):
    _master, slave = terminal
    read_end, write_end = os.pipe()
    made, inbox, thread = _driver(slave)
    made.disable_input()
    made.fileno, made.input_tty = read_end, False
    thread = threading.Thread(target=made.run_input_thread, daemon=True)
    made._key_thread = thread
    thread.start()
    os.close(write_end)
    await asyncio.sleep(0.5)
    assert inbox.lost() == 0
    made.disable_input()
    assert not thread.is_alive()
    made.close()
    os.close(read_end)


class SpuriousSelector(CountingSelector):
    """Says the terminal is readable once when it is not (as select may after a signal)."""

    fd = -1

    def select(self, timeout: float | None = None) -> Any:
        if SpuriousSelector.fd >= 0:
            key = self.get_key(SpuriousSelector.fd)
            SpuriousSelector.fd = -1
            return [(key, selectors.EVENT_READ)]
        return super().select(timeout)


async def test_a_spurious_wake_up_is_not_a_lost_terminal(terminal, monkeypatch):
    master, slave = terminal
    os.set_blocking(slave, False)  # a read with nothing there fails with EAGAIN
    SpuriousSelector.fd = slave
    monkeypatch.setattr(driver_module, "DefaultSelector", SpuriousSelector)
    made, inbox, thread = _driver(slave)
    await asyncio.sleep(0.3)
    assert SpuriousSelector.fd == -1  # the false readiness was handed out
    os.write(master, b"a")
    assert await until(lambda: inbox.keys() == ["a"])  # still reading
    assert inbox.lost() == 0
    made.disable_input()
    assert not thread.is_alive()
    made.close()
