"""The commands `simulate` prints run when pasted, after the README's install: the venv is
never activated, so a bare `cmltui` would be `command not found`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmltui.invocation import command, command_line

SCRIPT = Path(sys.executable).with_name("cmltui")  # the README installs this console script


def test_the_command_is_the_running_executable_or_the_interpreter():
    assert command_line("/opt/venv/bin/cmltui", "/usr/bin/python3") == "/opt/venv/bin/cmltui"
    relative = command_line(".venv/bin/cmltui", "/usr/bin/python3")
    assert relative == os.path.abspath(".venv/bin/cmltui") and os.path.isabs(relative)
    main = "/src/cmltui/__main__.py"  # `python -m cmltui`
    assert command_line(main, "/opt/venv/bin/python") == "/opt/venv/bin/python -m cmltui"
    spaced = command_line(main, "/opt/my venv/bin/python")
    assert shlex.split(spaced) == ["/opt/my venv/bin/python", "-m", "cmltui"]
    assert command("run", "--ccm", "https://h:1", argv0="/v/bin/cmltui") == (
        "/v/bin/cmltui run --ccm https://h:1"
    )


def _bare_env(home: Path) -> dict[str, str]:
    """A shell as after the README's install: the venv is not on PATH nor activated."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "cfg"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "LANG": "C.UTF-8",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.mark.skipif(not SCRIPT.exists(), reason="no cmltui console script beside the interpreter")
def test_simulate_ccm_prints_a_run_line_that_works_pasted(tmp_path):
    proc = subprocess.Popen(
        [str(SCRIPT), "simulate", "--ccm", "--workers", "3"],
        env=_bare_env(tmp_path / "sim"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline and not any(" run --ccm " in x for x in lines):
            line = proc.stdout.readline()
            assert line, f"simulate exited early: {proc.stderr.read() if proc.stderr else ''}"
            lines.append(line.rstrip("\n"))
        block = [x.strip() for x in lines if x.strip().startswith("export ")]
        run = next(x.strip() for x in lines if " run --ccm " in x)
        assert run.startswith(str(SCRIPT) + " run --ccm https://127.0.0.1:")
        # Pasted into a shell without the venv: the exports, then the line as printed, with
        # `run` (a full-screen UI) swapped for `snapshot` (the same source, printed once).
        snapshot = run.replace(" run --ccm ", " snapshot --format json --ccm ", 1)
        done = subprocess.run(
            ["bash", "-c", "\n".join([*block, snapshot])],
            env=_bare_env(tmp_path / "client"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert '"workers"' in done.stdout
        bare = subprocess.run(
            ["bash", "-c", "cmltui --version"], env=_bare_env(tmp_path), capture_output=True
        )
        assert bare.returncode == 127  # what the old `cmltui run …` line gave
    finally:
        proc.terminate()
        proc.wait(timeout=15)
