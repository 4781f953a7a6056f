"""`cmltui snapshot` end to end, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def clean_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CMLTUI_", "AWS_"))}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
    )
    env.update(extra)
    return env


def cmltui(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cmltui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_snapshot_demo_json_is_valid_json_for_jq(tmp_path):
    result = cmltui("snapshot", "--demo", "--format", "json", env=clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    tool = subprocess.run(
        [sys.executable, "-m", "json.tool"], input=result.stdout, capture_output=True, text=True
    )
    assert tool.returncode == 0
    data = json.loads(result.stdout)
    assert set(data) == {"collected_at", "fleet", "workers", "errors"}
    assert len(data["workers"]) == 12 and data["errors"] == []
    # Cost: every running worker says where its price came from; the fleet block adds it up.
    running = [w for w in data["workers"] if w["status"] == "running"]
    assert running and all(w["price_source"] in ("table", "config") for w in running)
    assert all(w["hourly_cost"] == w["hourly_price"] > 0 for w in running)
    fleet = data["fleet"]
    assert fleet["burn_per_hour"] == pytest.approx(sum(w["hourly_cost"] for w in running), 1e-3)
    idle = [w for w in running if w["is_idle"]]
    assert fleet["idle_burn_per_hour"] == pytest.approx(sum(w["hourly_cost"] for w in idle), 1e-3)
    assert fleet["projected_month"] == pytest.approx(fleet["burn_per_hour"] * 730, 0.01)
    assert set(fleet["savings"]) >= {"saved_usd", "auto_usd", "manual_usd", "since", "basis"}
    assert fleet["unpriced"]["running"] == 0
    names = {w["name"] for w in data["workers"]}
    assert "cml-busy-01" in names and "cml-stopped-06" in names
    busy = next(w for w in data["workers"] if w["name"] == "cml-busy-01")
    assert busy["status"] == "running" and busy["created_at"].endswith("+00:00")
    # Idle state is never a guess: a worker whose telemetry could not be read (CML down) is
    # unknown, never "not idle"; one read is idle or active; one just resumed is in snooze
    # (whatever its verdict); a stopped one has none.
    by_name = {w["name"]: w for w in data["workers"]}
    down = by_name["cml-down-07"]
    assert (down["idle_state"], down["is_idle"], down["idle_minutes"]) == ("unknown", None, None)
    assert (by_name["cml-idle-03"]["idle_state"], by_name["cml-idle-03"]["is_idle"]) == (
        "idle",
        True,
    )
    assert (busy["idle_state"], busy["is_idle"]) == ("active", False)
    snooze = by_name["cml-snooze-04"]
    assert (snooze["idle_state"], snooze["in_snooze_period"]) == ("snooze", True)
    assert by_name["cml-stopped-06"]["idle_state"] is None
    # Addresses, DNS names included, for a running worker; none for a stopped one.
    assert busy["public_ip"] and busy["private_ip"]
    assert busy["public_dns"] and busy["private_dns"]
    stopped = by_name["cml-stopped-06"]
    assert (stopped["public_dns"], stopped["private_dns"], stopped["public_ip"]) == (None,) * 3
    assert by_name["cml-labs-02"]["idle_state"] == "off"  # disabled by its tag
    # secrets never reach the output
    assert "cmltui-sim-password" not in result.stdout
    assert "token" not in json.dumps([sorted(w) for w in data["workers"]])


def test_snapshot_table_fits_80_columns_and_says_each_idle_state_as_the_dashboard(tmp_path):
    result = cmltui("snapshot", "--demo", "--workers", "7", env=clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("NAME")
    assert max(len(line) for line in lines) <= 80
    rows = {ln.split()[0]: ln for ln in lines if ln.startswith("cml-")}
    assert len(rows) == 7
    idle_at = lines[0].index("IDLE")

    def idle_cell(name: str) -> str:
        return rows[name][idle_at : idle_at + 11].strip()

    assert idle_cell("cml-down-07") == "?"  # telemetry never read: unknown, not "active"
    assert idle_cell("cml-snooze-04") == "snooze"  # as the dashboard says, not its minutes
    assert idle_cell("cml-labs-02") == "off"
    assert idle_cell("cml-stopped-06") == "-"
    assert idle_cell("cml-idle-03").startswith("IDLE ")
    assert idle_cell("cml-busy-01").endswith("m")  # active: for how long
    summary = next(line for line in lines if line.startswith("7 workers"))
    assert "idle 1" in summary and "unknown 1" in summary and "snooze 1" in summary
    burn = next(line for line in lines if line.startswith("burn $"))
    assert ", idle burn $" in burn and ", month $" in burn


def test_unreachable_endpoint_is_one_line_and_non_zero(tmp_path):
    env = clean_env(
        tmp_path,
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
        AWS_MAX_ATTEMPTS="1",
    )
    result = cmltui("snapshot", env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach endpoint" in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_credentials_is_one_line_and_non_zero(tmp_path):
    result = cmltui("snapshot", "--format", "json", env=clean_env(tmp_path))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no AWS credentials" in lines[0]
    assert result.stdout == ""


DEMO_SAFETY_PROBE = r"""
import socket, sys
real_connect = socket.socket.connect
seen = []
def guarded(self, address):
    seen.append(address)
    host = address[0] if isinstance(address, tuple) else str(address)
    if isinstance(address, tuple) and host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit(f"demo tried to reach {address!r}")
    return real_connect(self, address)
socket.socket.connect = guarded
sys.argv = ["cmltui", "snapshot", "--demo", "--workers", "3", "--format", "json"]
from cmltui.cli.main import main
code = main()
print("CONNECTED", sorted({a[0] for a in seen if isinstance(a, tuple)}), file=sys.stderr)
sys.exit(code)
"""


def test_demo_reaches_only_loopback_whatever_the_environment(tmp_path):
    aws_dir = tmp_path / "aws"
    aws_dir.mkdir()
    (aws_dir / "config").write_text("[profile prod-admin]\nregion = eu-west-1\n")
    (aws_dir / "credentials").write_text(
        "[prod-admin]\naws_access_key_id = AKIAREALLOOKING00001\n"
        "aws_secret_access_key = realLookingSecretKeyValue0000000000000000\n"
    )
    env = clean_env(
        tmp_path,
        AWS_PROFILE="prod-admin",
        AWS_CONFIG_FILE=str(aws_dir / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(aws_dir / "credentials"),
        AWS_REGION="eu-west-1",
    )
    result = subprocess.run(
        [sys.executable, "-c", DEMO_SAFETY_PROBE],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    connected = result.stderr.strip().splitlines()[-1]
    assert connected.startswith("CONNECTED") and "127.0.0.1" in connected
    data = json.loads(result.stdout)
    assert len(data["workers"]) == 3 and all(
        w["aws_region"] == "us-east-1" for w in data["workers"]
    )


@pytest.mark.parametrize("args", [["--version"], ["snapshot", "--version"]])
def test_python_m_cmltui_works_like_cmltui(tmp_path, args):
    result = cmltui(*args, env=clean_env(tmp_path))
    assert result.returncode == 0 and result.stdout.startswith("cmltui ")
