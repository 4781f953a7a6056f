"""A program in a real pseudo-terminal, and what it wrote: the one pty helper of the tests.

`spawn()` starts a command on a new pty (its own session; optionally the pty is its controlling
terminal, so that closing it sends SIGHUP) and returns a `PtyProcess` that keeps everything the
program wrote. Tests wait for text with `read_until` (returns what it read) or `expect` (fails
the test, showing the last output, when the text does not come).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from types import TracebackType

ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
"""CSI sequences (cursor moves, colours): removed when a test looks for plain text."""


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """Everything read from `fd` until `needle` shows up, the pty closes or `timeout` passes."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and needle not in seen:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


class PtyProcess:
    """A running program and the master side of its terminal."""

    def __init__(self, proc: subprocess.Popen[bytes], master: int) -> None:
        self.proc = proc
        self.master: int | None = master
        self.seen = b""  # everything read so far

    @property
    def pid(self) -> int:
        return self.proc.pid

    def read(self, timeout: float = 0.1) -> bytes:
        """What the program writes within `timeout` (keeps the pty drained); b"" once closed."""
        if self.master is None:
            return b""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # the program closed its side
            return b""
        self.seen += chunk
        return chunk

    def read_until(
        self, needle: bytes, timeout: float, *, start: int | None = None, plain: bool = False
    ) -> bytes:
        """Everything from `start` (default: now) until `needle` shows or `timeout` passes;
        with `plain`, escape sequences are removed first."""
        start = len(self.seen) if start is None else start
        deadline = time.monotonic() + timeout
        while True:
            text = self._since(start, plain)
            if needle in text or time.monotonic() >= deadline:
                return text
            if not self.read() and self.proc.poll() is not None:
                return self._since(start, plain)  # it ended and has nothing more to say

    def _since(self, start: int, plain: bool) -> bytes:
        text = self.seen[start:]
        return ESCAPES.sub(b"", text) if plain else text

    def expect(self, needle: bytes, timeout: float, *, start: int | None = None) -> bytes:
        """`read_until` on plain text that fails the test when `needle` does not show."""
        text = self.read_until(needle, timeout, start=start, plain=True)
        assert needle in text, f"{needle!r} not shown; last output: {self.seen[-400:]!r}"
        return text

    def write(self, data: bytes) -> None:
        assert self.master is not None
        os.write(self.master, data)

    def wait(self, timeout: float) -> int | None:
        """Wait for the program to end, reading its output meanwhile; its exit status."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read()
        return self.proc.poll()

    def close_terminal(self) -> None:
        """The terminal goes away (as when an SSH link drops): the master side closes."""
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = None

    def close(self) -> None:
        """Kill the program if it still runs, and close the terminal."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close_terminal()

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def spawn(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    size: tuple[int, int] | None = None,
    controlling: bool = False,
) -> PtyProcess:
    """Start `argv` on a new pty in its own session.

    `size` is (columns, rows) set on the pty; with `controlling` the pty becomes the program's
    controlling terminal, so that its closing sends SIGHUP (without it, nothing signals the
    program: only its failing reads tell it the terminal went away).
    """
    master, slave = pty.openpty()
    if size is not None:
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
            preexec_fn=_controlling_terminal if controlling else None,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return PtyProcess(proc, master)
