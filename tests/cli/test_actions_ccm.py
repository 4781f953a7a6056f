"""Every action command through a Cloud Manager: `--ccm URL` against `cmltui simulate --ccm`."""

from __future__ import annotations

import json
import secrets
import time

import pytest

from tests.cli.simulate_process import SimulateProcess, cmltui_command, files_holding


@pytest.fixture(scope="module")
def ccm(tmp_path_factory):
    process = SimulateProcess(tmp_path_factory.mktemp("simulate-ccm"), "--ccm")
    try:
        yield process
    finally:
        process.stop()


def run(ccm: SimulateProcess, tmp_path, *args: str, **env: str):
    return cmltui_command(*args, "--ccm", ccm.value("URL"), env=ccm.env(tmp_path, **env))


def fleet(ccm: SimulateProcess, tmp_path) -> dict[str, dict]:
    result = cmltui_command(
        "snapshot", "--ccm", ccm.value("URL"), "--format", "json", env=ccm.env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    return {w["name"]: w for w in json.loads(result.stdout)["workers"]}


def test_pause_and_resume_through_cloud_manager(ccm, tmp_path):
    worker = fleet(ccm, tmp_path)["cml-idle-03"]
    result = run(ccm, tmp_path, "pause", "cml-idle-03", "--yes", "--format", "json")
    assert result.returncode == 0, result.stderr
    (event,) = json.loads(result.stdout)
    assert event["type"] == "worker.paused" and event["data"]["worker_id"] == worker["id"]
    audit = (tmp_path / "state" / "cmltui" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["result"] for line in audit] == ["intent", "ok"]
    # stopping now: refused until Cloud Manager says stopped (its transition takes seconds)
    deadline = time.monotonic() + 30
    while fleet(ccm, tmp_path)["cml-idle-03"]["status"] != "stopped":
        assert time.monotonic() < deadline, "the double never finished the stop"
        time.sleep(1)
    result = run(ccm, tmp_path, "resume", worker["aws_instance_id"], "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("cml-idle-03: resume (manual) by ")


def started_lab(ccm: SimulateProcess, tmp_path) -> dict:
    """A running lab of cml-busy-01, as the snapshot lists it (the double seeds real labs)."""
    labs = fleet(ccm, tmp_path)["cml-busy-01"]["labs"]
    return next(lab for lab in labs if lab["state"] == "STARTED")


def test_dry_run_names_cloud_managers_routes(ccm, tmp_path):
    lab = started_lab(ccm, tmp_path)
    result = run(ccm, tmp_path, "lab", "stop", "cml-busy-01", lab["title"], "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Cloud Manager POST /api/labs/region/us-east-1/workers/" in result.stdout
    assert result.stdout.splitlines()[0].endswith(f"/labs/{lab['id']}/stop")
    result = run(ccm, tmp_path, "idle-detection", "off", "cml-busy-01", "--dry-run")
    assert result.stdout.splitlines()[0].endswith("/idle-detection/disable")


def test_a_lab_stop_and_idle_detection_through_cloud_manager(ccm, tmp_path):
    lab = started_lab(ccm, tmp_path)
    result = run(
        ccm, tmp_path, "lab", "stop", "cml-busy-01", lab["id"], "--yes", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    (event,) = json.loads(result.stdout)
    assert (event["type"], event["data"]["lab_id"]) == ("worker.lab.changed", lab["id"])
    states = {item["id"]: item["state"] for item in fleet(ccm, tmp_path)["cml-busy-01"]["labs"]}
    assert states[lab["id"]] == "STOPPED"  # Cloud Manager's lab list says so too
    # cml-labs-02's idle detection is off: `off` says so at once and sends nothing
    assert fleet(ccm, tmp_path)["cml-labs-02"]["is_idle_detection_enabled"] is False
    result = run(ccm, tmp_path, "idle-detection", "off", "cml-labs-02", "--yes")
    assert result.returncode == 1
    assert result.stdout == (
        "cml-labs-02: toggle idle detection not done: idle detection is already off\n"
    )
    assert not (tmp_path / "state" / "cmltui" / "audit.jsonl").read_text().count("idle")
    result = run(ccm, tmp_path, "idle-detection", "on", "cml-labs-02", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("cml-labs-02: idle detection ON by ccm-sim-user")
    result = run(ccm, tmp_path, "idle-detection", "off", "cml-labs-02", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("cml-labs-02: idle detection OFF by ccm-sim-user")


def test_a_bad_token_through_cloud_manager_exits_1_and_is_in_no_file(ccm, tmp_path):
    token = "bad-" + secrets.token_hex(8)
    result = run(
        ccm, tmp_path, "licence", "register", "cml-unreg-12", "--token-env", "T", "--yes", T=token
    )
    assert result.returncode == 1
    assert "Invalid license token" in result.stdout and token not in result.stdout
    roots = [tmp_path / "state", tmp_path / "cache", tmp_path / "cfg"]
    assert files_holding(roots, token) == []
