"""The app leaves cleanly when its terminal goes away (SIGHUP), in a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.pty_reading import read_until

HERE = Path(__file__).resolve().parent


def _start_app(marker: Path, *, controlling: bool) -> tuple[subprocess.Popen[bytes], int]:
    """The dashboard on the fixture fleet in an 80x24 pty; returns it and the pty's master."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    def own_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = {**os.environ, "TZ": "UTC", "TERM": "xterm-256color", "PYTHONPATH": str(HERE.parents[1])}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "tui_pty_main.py"), str(marker)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        # With TIOCSCTTY the pty is the controlling terminal (a hang-up sends SIGHUP);
        # without it, nothing signals the app when the terminal goes away.
        preexec_fn=own_terminal if controlling else None,
        env=env,
    )
    os.close(slave)
    return proc, master


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")
def test_sighup_exits_cleanly(tmp_path: Path) -> None:
    marker = tmp_path / "exit.txt"
    proc, master = _start_app(marker, controlling=True)
    try:
        output = read_until(master, b"cml-busy-01", timeout=20)
        assert b"cml-busy-01" in output, output[-500:]
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            read_until(master, b"\x00never", timeout=0.1)  # keep the pty drained
        assert proc.poll() is not None, "the app did not exit on SIGHUP"
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert marker.read_text() == "exited 129"  # the app's own shutdown ran
    assert proc.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")
def test_terminal_lost_without_sighup_exits_cleanly(tmp_path: Path) -> None:
    """No controlling terminal, so no SIGHUP: the input thread's failed read ends the app."""
    marker = tmp_path / "exit.txt"
    proc, master = _start_app(marker, controlling=False)
    try:
        output = read_until(master, b"cml-busy-01", timeout=20)
        assert b"cml-busy-01" in output, output[-500:]
    finally:
        os.close(master)  # the terminal goes away
    try:
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert marker.read_text() == "exited 129"
