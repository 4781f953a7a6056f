"""Textual's Linux driver, with an input thread that sleeps until a key arrives.

Textual's input thread wakes ten times a second to check for its exit flag and for a lone ESC
waiting to be resolved. On an idle dashboard those wake-ups cost more CPU than the collection
itself at the default interval. This driver's thread blocks in `select` until input
arrives or it is woken through a pipe to stop; it polls only for a moment after input, while
the parser may hold an escape sequence that a timeout resolves.

It also notices a terminal that went away: Textual's loop spins on a hung-up terminal's end of
file, this one posts `TerminalLost` to the app once and stops reading.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from codecs import getincrementaldecoder
from selectors import EVENT_READ, DefaultSelector

from textual import constants
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

POLL_SECONDS = 0.1
"""How often the parser is ticked while an escape sequence may be pending (Textual's figure)."""

PENDING_SECONDS = max(1.0, 4 * constants.ESCAPE_DELAY)
"""How long after the last input the thread keeps ticking the parser before it sleeps."""


class TerminalLost(Message):
    """The terminal's input reached its end or failed: the terminal is gone."""


class QuietLinuxDriver(LinuxDriver):
    """A `LinuxDriver` whose input thread costs nothing while no key is pressed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._stopping = threading.Event()
        # One pipe for the driver's life (a suspended app starts a new input thread); it is
        # closed only in `close`, after the thread has been joined, so a wake never writes
        # into a descriptor number that was closed and reused.
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def disable_input(self) -> None:
        """Wake the sleeping input thread before Textual joins it."""
        self._stopping.set()
        with contextlib.suppress(OSError):  # a full pipe: the thread is awake already
            os.write(self._wake_write, b"x")
        try:
            super().disable_input()
        finally:
            self._stopping.clear()

    def close(self) -> None:
        super().close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def run_input_thread(self) -> None:
        """Read keys until told to stop; sleep in `select` while there is nothing to do."""
        wake_read = self._wake_read
        selector = DefaultSelector()
        selector.register(self.fileno, EVENT_READ, "input")
        selector.register(wake_read, EVENT_READ, "wake")
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        last_input = 0.0
        reading = True
        try:
            while not (self._stopping.is_set() or self.exit_event.is_set()):
                pending = time.monotonic() - last_input < PENDING_SECONDS
                events = selector.select(POLL_SECONDS if pending else None)
                for key, _mask in events:
                    if key.data == "wake":
                        with contextlib.suppress(BlockingIOError):
                            os.read(wake_read, 64)
                        continue
                    try:
                        data = os.read(self.fileno, 4096)
                    except (BlockingIOError, InterruptedError):  # a spurious wake-up
                        continue
                    except OSError:  # EIO: the terminal hung up
                        data = b""
                    if not data:  # end of input: a hung-up terminal, or a closed pipe
                        selector.unregister(self.fileno)
                        reading = False
                        if self.input_tty:
                            self.process_message(TerminalLost())
                        continue
                    last_input = time.monotonic()
                    for event in parser.feed(decode(data)):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
            if reading:  # what was typed just before the stop still reaches the app
                selector.unregister(self.fileno)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()
