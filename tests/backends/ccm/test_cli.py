"""`cmltui snapshot --ccm URL`, `simulate --ccm` and `demo --ccm`, as a user runs them."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

import pytest

from cmltui.api.dto import CMLWorkerDto
from cmltui.sim.ccm_server import CcmSimulator
from tests.cli.test_snapshot import clean_env, cmltui
from tests.pty_reading import spawn


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cmltui",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def _log_text(tmp_path: Path) -> str:
    return "".join(p.read_text() for p in tmp_path.rglob("*.log"))


async def test_snapshot_ccm_json_has_the_aws_sources_shape_and_no_token(tmp_path):
    async with CcmSimulator(workers=12, seed=0) as sim:
        env = clean_env(tmp_path, CMLTUI_CCM_TOKEN=sim.token, CMLTUI_CCM_CA_BUNDLE=str(sim.ca_file))
        code, out, err = await _cli(
            "--log-level", "DEBUG", "snapshot", "--ccm", sim.url, "--format", "json", env=env
        )
        secrets = [w.license_token for w in sim.model.workers.values()]
    assert code == 0, err
    data = json.loads(out)
    assert {"collected_at", "workers", "errors"} <= set(data)
    assert len(data["workers"]) == 12 and data["errors"] == []
    for worker in data["workers"]:
        assert set(worker) == set(CMLWorkerDto.model_fields)
    busy = next(w for w in data["workers"] if w["name"] == "cml-busy-01")
    assert busy["created_at"].endswith("+00:00") and busy["status"] == "running"
    # Idle for 3 h, by Cloud Manager's own verdict (upstream never sends target_pause_at).
    idle = next(w for w in data["workers"] if w["name"] == "cml-idle-03")
    assert (idle["idle_state"], idle["is_idle"], idle["target_pause_at"]) == ("idle", True, None)
    assert idle["labs"] is not None and idle["active_labs_count"] == 0
    for text in (out, err, _log_text(tmp_path)):
        assert "license_token" not in text and not any(s in text for s in secrets)
    # The AWS source (on the simulated fleet) gives the very same shape.
    aws = cmltui(
        "snapshot", "--demo", "--workers", "2", "--format", "json", env=clean_env(tmp_path)
    )
    assert aws.returncode == 0, aws.stderr
    aws_data = json.loads(aws.stdout)
    assert set(aws_data) == set(data)
    assert set(aws_data["workers"][0]) == set(data["workers"][0])
    for key, value in aws_data.items():  # nested objects too (e.g. the fleet's cost totals)
        if isinstance(value, dict):
            assert set(value) == set(data[key]), key


async def test_snapshot_ccm_with_a_rejected_token_says_so_in_one_line(tmp_path):
    async with CcmSimulator(workers=2) as sim:
        env = clean_env(tmp_path, CMLTUI_CCM_TOKEN="wrong", CMLTUI_CCM_CA_BUNDLE=str(sim.ca_file))
        code, out, err = await _cli("snapshot", "--ccm", sim.url, env=env)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "token rejected" in err and "Traceback" not in err
    assert "wrong" not in err


def test_snapshot_ccm_with_a_bad_url_names_the_key(tmp_path):
    result = cmltui("snapshot", "--ccm", "ftp://example", env=clean_env(tmp_path))
    assert result.returncode == 2
    assert "source.url" in result.stderr and "Traceback" not in result.stderr


async def test_simulate_ccm_prints_how_to_connect_and_serves_the_stream(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cmltui",
        "simulate",
        "--ccm",
        "--workers",
        "3",
        env=clean_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        lines = []
        while not any(line.startswith("Token:") for line in lines):
            raw = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert raw, "simulate exited early"
            lines.append(raw.decode().strip())
        url = next(x.split()[1] for x in lines if x.startswith("URL:"))
        ca = next(x.split()[2] for x in lines if x.startswith("CA file:"))
        token = next(x.split()[1] for x in lines if x.startswith("Token:"))
        env = clean_env(tmp_path / "client", CMLTUI_CCM_TOKEN=token, CMLTUI_CCM_CA_BUNDLE=ca)
        code, out, err = await _cli("snapshot", "--ccm", url, "--format", "json", env=env)
        assert code == 0, err
        assert len(json.loads(out)["workers"]) == 3
    finally:
        proc.terminate()
        await proc.wait()


def test_ccm_without_a_url_names_the_key(tmp_path):
    result = cmltui("snapshot", env=clean_env(tmp_path, CMLTUI_SOURCE="ccm"))
    assert result.returncode == 2, result.stderr
    assert "source.url" in result.stderr and "Traceback" not in result.stderr


def test_plain_http_is_refused_unless_tls_checks_are_opted_out(tmp_path):
    result = cmltui("snapshot", "--ccm", "http://127.0.0.1:9", env=clean_env(tmp_path))
    assert result.returncode == 2
    assert "in clear" in result.stderr and result.stderr.count("\n") == 1
    config = tmp_path / "cfg.toml"
    config.write_text("[source]\nverify_tls = false\n")
    result = cmltui(
        "--config",
        str(config),
        "snapshot",
        "--ccm",
        "http://127.0.0.1:9",
        env=clean_env(tmp_path, CMLTUI_CCM_TOKEN="t"),
    )
    assert result.returncode == 1  # accepted, and unreachable: one line, no traceback
    assert "unreachable" in result.stderr and "Traceback" not in result.stderr


def test_a_failing_token_command_is_one_line_without_its_output(tmp_path):
    config = tmp_path / "cfg.toml"
    config.write_text('[source]\ntoken_command = "sh -c \\"echo SECRET-OUT; exit 3\\""\n')
    result = cmltui(
        "--config",
        str(config),
        "snapshot",
        "--ccm",
        "https://127.0.0.1:9",
        env=clean_env(tmp_path),
    )
    assert result.returncode == 2
    assert "source.token_command failed" in result.stderr
    assert "SECRET-OUT" not in result.stderr + result.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pty")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_demo_ccm_is_the_same_dashboard_run_its_signals_end_it_cleanly(tmp_path, signum, code):
    """`demo --ccm` goes through the one dashboard runner: its signal handlers restore the
    terminal and give the conventional code, and closing the backend stops the simulator."""
    env = clean_env(tmp_path, TERM="xterm-256color", COLUMNS="120", LINES="40")
    argv = [sys.executable, "-m", "cmltui", "demo", "--ccm", "--workers", "4"]
    with spawn(argv, env) as app:
        app.expect(b"cml-busy-01", timeout=60)
        began = time.monotonic()
        app.proc.send_signal(signum)
        app.wait(10)  # keeps the terminal drained
        took = time.monotonic() - began
        assert app.proc.returncode == code, app.seen[-800:]
        assert took < 3, f"{took:.1f}s to exit after the signal"
        assert b"\x1b[?1049l" in app.seen  # the alternate screen was left: the terminal is back
        assert b"Traceback" not in app.seen


async def test_snapshot_ccm_of_a_deeply_nested_worker_list_is_one_line(tmp_path):
    async with CcmSimulator(workers=2) as sim:
        sim.list_body = b"[" * 200_000 + b"]" * 200_000
        env = clean_env(tmp_path, CMLTUI_CCM_TOKEN=sim.token, CMLTUI_CCM_CA_BUNDLE=str(sim.ca_file))
        code, out, err = await _cli("snapshot", "--ccm", sim.url, env=env)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err and "RecursionError" not in err
    assert "nested" in err


def test_snapshot_ccm_in_a_region_cloud_manager_does_not_serve_names_the_key(tmp_path):
    result = cmltui(
        "snapshot",
        "--ccm",
        "https://127.0.0.1:9",
        "--region",
        "eu-west-1",
        env=clean_env(tmp_path, CMLTUI_CCM_TOKEN="t"),
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "aws.regions" in result.stderr and "us-east-1, us-west-2" in result.stderr
