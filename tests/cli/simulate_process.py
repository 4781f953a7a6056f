"""`cmltui simulate` in its own process, as an operator runs it, and the command run against it.

`SimulateProcess` starts the simulator, reads what it prints (the `export` block of the direct
fleet, or the URL, CA file and token of the Cloud Manager double) and stops it with ctrl+c. The
state, log and cache directories of every command it runs are under the test's `tmp_path`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.test_snapshot import clean_env


class SimulateProcess:
    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.home = tmp_path
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cmltui", "simulate", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=clean_env(tmp_path / "simulator"),
        )
        self.text = self._read_until("Or any HTTP client:" if "--ccm" in args else "cmltui config")
        self.exports = dict(
            line.strip().removeprefix("export ").split("=", 1)
            for line in self.text.splitlines()
            if line.strip().startswith("export ")
        )

    def _read_until(self, marker: str, timeout: float = 90) -> str:
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith(marker):
                return "".join(lines)
        self.stop()
        raise AssertionError(f"simulate did not print {marker!r}: {''.join(lines)[-500:]}")

    def value(self, label: str) -> str:
        """A `Label:  value` line of what it printed (URL, Token, CA file)."""
        for line in self.text.splitlines():
            if line.startswith(f"{label}:"):
                return line.split(":", 1)[1].split()[0]
        raise KeyError(label)

    def env(self, run: Path, **extra: str) -> dict[str, str]:
        """A clean environment pointed at the simulator, with `run` as home, state and cache."""
        env = clean_env(run, **self.exports, **extra)
        env["XDG_CACHE_HOME"] = str(run / "cache")
        return env

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def cmltui_command(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`cmltui …` with no terminal (stdin a pipe or /dev/null), as from cron or a script."""
    return subprocess.run(
        [sys.executable, "-m", "cmltui", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        timeout=timeout,
    )


def files_holding(roots: list[Path], secret: str) -> list[Path]:
    """Every file under `roots` whose bytes hold `secret`."""
    needle = secret.encode()
    return [
        path
        for root in roots
        if root.exists()
        for path in root.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    ]
