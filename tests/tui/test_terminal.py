"""The app leaves cleanly when its terminal goes away (SIGHUP), in a real pseudo-terminal."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from tests.pty_reading import PtyProcess, spawn

HERE = Path(__file__).resolve().parent


def _start_app(marker: Path, *, controlling: bool) -> PtyProcess:
    """The dashboard on the fixture fleet in an 80x24 pty, once it shows its first row."""
    env = {**os.environ, "TZ": "UTC", "TERM": "xterm-256color", "PYTHONPATH": str(HERE.parents[1])}
    # With a controlling terminal a hang-up sends SIGHUP; without, nothing signals the app.
    app = spawn(
        [sys.executable, str(HERE / "tui_pty_main.py"), str(marker)],
        env,
        size=(80, 24),
        controlling=controlling,
    )
    try:
        app.expect(b"cml-busy-01", timeout=20)
    except BaseException:
        app.close()
        raise
    return app


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")
def test_sighup_exits_cleanly(tmp_path: Path) -> None:
    marker = tmp_path / "exit.txt"
    with _start_app(marker, controlling=True) as app:
        app.proc.send_signal(signal.SIGHUP)
        assert app.wait(10) is not None, "the app did not exit on SIGHUP"
    assert marker.read_text() == "exited 129"  # the app's own shutdown ran
    assert app.proc.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pty")
def test_terminal_lost_without_sighup_exits_cleanly(tmp_path: Path) -> None:
    """No controlling terminal, so no SIGHUP: the input thread's failed read ends the app."""
    marker = tmp_path / "exit.txt"
    with _start_app(marker, controlling=False) as app:
        app.close_terminal()  # the terminal goes away
        app.proc.wait(timeout=15)
    assert marker.read_text() == "exited 129"
