"""`cmltui simulate` prints exports that work pasted as they are: `cmltui snapshot` (the same
collector as `cmltui run`) and a virl2-client script connect with TLS verified."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _clean_env(home: Path) -> dict[str, str]:
    """No AWS or cmltui settings, no config file, no .virlrc: only what the exports give."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "LANG": "C.UTF-8",
    }
    if "VIRTUAL_ENV" in os.environ:
        env["VIRTUAL_ENV"] = os.environ["VIRTUAL_ENV"]
    return env


def _read_until(proc: subprocess.Popen[str], marker: str, timeout_s: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(marker):
            return lines
    raise AssertionError(f"`cmltui simulate` printed no {marker!r}: {lines[-20:]}")


@pytest.fixture
def simulate(tmp_path: Path):  # type: ignore[no-untyped-def]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmltui", "simulate", "--workers", "4", "--seed", "1"],
        cwd=ROOT,
        env=_clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _run_with_exports(exports: list[str], command: str, home: Path) -> str:
    script = "\n".join([*exports, command])
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=home,
        env=_clean_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


VIRL2_SCRIPT = f"""{sys.executable} - <<'PY'
import warnings
warnings.simplefilter("ignore")
from virl2_client import ClientLibrary
client = ClientLibrary(raise_for_auth_failure=True)  # URL, user, password, CA: from the env
lab = client.create_lab("from the exports")
print("LABS", len(client.get_lab_list(show_all=True)), lab.state())
lab.remove()
print("LOGOUT", client.logout())
PY"""


def test_pasted_exports_connect_cmltui_and_virl2_client(simulate, tmp_path: Path) -> None:
    pytest.importorskip("virl2_client")
    printed = _read_until(simulate, "cmltui config (TOML):", 120)
    exports = [line.strip() for line in printed if line.strip().startswith("export ")]
    names = {line.split("=", 1)[0].removeprefix("export ") for line in exports}
    assert {
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "CMLTUI_CML_PASSWORD",
        "CMLTUI_CML_CA_BUNDLE",
        "CML_VERIFY_CERT",
        "VIRL2_URL",
    } <= names
    text = "\n".join(printed)
    assert "REQUESTS_CA_BUNDLE=" in text and "SSL_CERT_FILE=" in text

    out = _run_with_exports(exports, f"{sys.executable} -m cmltui snapshot --format json", tmp_path)
    workers = {w["name"]: w for w in json.loads(out)["workers"]}
    assert len(workers) == 4
    for name in ("cml-busy-01", "cml-labs-02", "cml-idle-03", "cml-snooze-04"):
        w = workers[name]
        assert (w["service_status"], w["errors"]) == ("available", {}), (name, w["errors"])
        assert w["cml_ready"] is True

    out = _run_with_exports(exports, VIRL2_SCRIPT, tmp_path)
    assert "LOGOUT True" in out

    # Start-up progress went to stderr, one line per phase (stderr is not a terminal here).
    simulate.send_signal(signal.SIGINT)
    _, err = simulate.communicate(timeout=15)
    for phase in ("creating instances", "seeding CloudWatch", "starting CML endpoints"):
        assert f"cmltui: {phase}: " in err
    assert any(
        line.startswith("LABS ") and line.endswith("DEFINED_ON_CORE") for line in out.splitlines()
    )
