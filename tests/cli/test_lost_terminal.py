"""Over SSH the terminal can vanish: the app must exit by itself, without spinning the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.cli.test_snapshot import clean_env
from tests.pty_reading import spawn

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and a Linux pty")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


@pytest.mark.parametrize(
    ("controlling", "wait_for"),
    [(True, b"cml-busy-01"), (False, b"cml-busy-01"), (True, b"Workers"), (False, b"Workers")],
    ids=["sighup", "tty-gone-no-sighup", "sighup-while-starting", "tty-gone-while-starting"],
)
def test_closing_the_terminal_side_ends_the_app(tmp_path, controlling, wait_for):
    """Also while the simulator is still starting: a shutdown stuck on the dead terminal ends."""
    env = clean_env(tmp_path, TERM="xterm-256color", COLUMNS="120", LINES="40")
    argv = [sys.executable, "-m", "cmltui", "demo", "--workers", "3"]
    with spawn(argv, env, controlling=controlling) as app:
        screen = app.read_until(wait_for, timeout=60)
        assert wait_for in screen, screen[-500:]
        before = cpu_seconds(app.pid)
        app.close_terminal()  # the terminal goes away (as when an SSH link drops)
        began = time.monotonic()
        _pid, _status, usage = os.wait4(app.pid, 0) if _wait(app.proc, 15) else (0, 0, None)
        assert usage is not None, "the app kept running after its terminal closed"
        took = time.monotonic() - began
        spent = usage.ru_utime + usage.ru_stime - before
        assert took < 15
        assert spent < max(2.0, took * 0.6), f"{spent:.2f}s CPU in {took:.2f}s after hang-up"


def _wait(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for exit without reaping it, so wait4 can still read its resource usage."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        except ChildProcessError:
            return False
        state = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        if state is not None:
            return True
        time.sleep(0.1)
    return False
