"""Every action as a command, end to end against `cmltui simulate` (moto and CML over HTTPS).

Each test puts back what it changed (an instance's state, a tag, a lab, a licence), so the
module's simulator is the same for every test in whatever order they run.
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import boto3
import pytest

from tests.cli.simulate_process import SimulateProcess, cmltui_command, files_holding
from tests.pty_reading import spawn

pytestmark = pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    process = SimulateProcess(tmp_path_factory.mktemp("simulate"))
    try:
        yield process
    finally:
        process.stop()


def ec2(sim: SimulateProcess):
    return boto3.client(
        "ec2",
        region_name=sim.exports["AWS_DEFAULT_REGION"],
        endpoint_url=sim.exports["AWS_ENDPOINT_URL"],
        aws_access_key_id=sim.exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=sim.exports["AWS_SECRET_ACCESS_KEY"],
    )


def instances(sim: SimulateProcess) -> dict[str, dict]:
    """Every instance by its Name tag: id, state, tags."""
    found = {}
    for reservation in ec2(sim).describe_instances()["Reservations"]:
        for item in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
            found[tags.get("Name", item["InstanceId"])] = {
                "id": item["InstanceId"],
                "state": item["State"]["Name"],
                "tags": tags,
            }
    return found


def audit(run: Path) -> list[dict]:
    path = run / "state" / "cmltui" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def snapshot(sim: SimulateProcess, run: Path, env: dict[str, str] | None = None) -> dict:
    result = cmltui_command("snapshot", "--format", "json", env=env or sim.env(run))
    assert result.returncode == 0, result.stderr
    return {w["name"]: w for w in json.loads(result.stdout)["workers"]}


def cml_client(sim: SimulateProcess, worker: dict):
    from virl2_client import ClientLibrary

    return ClientLibrary(
        worker["https_endpoint"],
        sim.exports["CMLTUI_CML_USERNAME"],
        sim.exports["CMLTUI_CML_PASSWORD"],
        ssl_verify=sim.exports["CMLTUI_CML_CA_BUNDLE"],
        raise_for_auth_failure=True,
    )


def test_pause_with_yes_stops_the_instance_audits_it_and_prints_one_event(sim, tmp_path):
    worker = instances(sim)["cml-idle-03"]
    assert worker["state"] == "running"
    try:
        result = cmltui_command(
            "pause", "cml-idle-03", "--yes", "--format", "json", env=sim.env(tmp_path)
        )
        assert result.returncode == 0, result.stderr
        events = json.loads(result.stdout)
        assert [e["type"] for e in events] == ["worker.paused"]
        data = events[0]["data"]
        assert data["worker_id"] == worker["id"] and data["pause_reason"] == "manual"
        after = instances(sim)["cml-idle-03"]
        assert after["state"] == "stopped"
        assert after["tags"]["cmltui:pause-reason"] == "manual"  # the history tags
        lines = audit(tmp_path)
        assert [(a["action"], a["result"]) for a in lines] == [("pause", "intent"), ("pause", "ok")]
        assert lines[0]["instance_id"] == worker["id"]
        assert lines[0]["operator"] == data["paused_by"]  # the operator STS named
        # and back, with one line per worker: the stopped one resumes, the running one is refused
        result = cmltui_command(
            "resume", "cml-idle-03", "cml-busy-01", "--yes", env=sim.env(tmp_path)
        )
        assert result.returncode == 1
        out = result.stdout.splitlines()
        assert len(out) == 2
        assert out[0].startswith("cml-idle-03: resume (manual) by ")
        assert out[1] == "cml-busy-01: resume not done: cml-busy-01 is already running"
        assert instances(sim)["cml-idle-03"]["state"] == "running"
    finally:
        if instances(sim)["cml-idle-03"]["state"] != "running":
            ec2(sim).start_instances(InstanceIds=[worker["id"]])


def test_without_a_terminal_and_without_yes_nothing_is_sent(sim, tmp_path):
    result = cmltui_command("pause", "cml-idle-03", env=sim.env(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "--yes" in result.stderr
    assert instances(sim)["cml-idle-03"]["state"] == "running"
    assert audit(tmp_path) == []


def test_pause_idle_dry_run_lists_what_p_would_and_sends_nothing(sim, tmp_path):
    # A short timeout and no snooze: several workers are idle, whatever another test resumed.
    config = tmp_path / "config.toml"
    config.write_text("[idle]\ntimeout_minutes = 5\nsnooze_minutes = 0\n")
    env = sim.env(tmp_path, CMLTUI_CONFIG=str(config))
    fleet = snapshot(sim, tmp_path, env)
    p_would = {
        name for name, w in fleet.items() if w["status"] == "running" and w["idle_state"] == "idle"
    }
    assert len(p_would) >= 2 and "cml-busy-01" not in p_would
    before = instances(sim)
    result = cmltui_command("pause", "--idle", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    listed = {
        line.split()[2] for line in result.stdout.splitlines() if line.startswith("would pause ")
    }
    assert listed == p_would
    assert "StopInstances" in result.stdout and "nothing sent" in result.stdout
    result = cmltui_command("pause", "--idle", "--dry-run", "--format", "json", env=env)
    plan = json.loads(result.stdout)
    assert {row["worker"] for row in plan} == p_would
    assert all(row["dry_run"] and row["refused"] is None for row in plan)
    assert {n: w["state"] for n, w in instances(sim).items()} == {
        n: w["state"] for n, w in before.items()
    }
    assert audit(tmp_path) == []


def test_an_unknown_or_ambiguous_name_is_a_usage_error_that_sends_nothing(sim, tmp_path):
    result = cmltui_command(
        "pause", "cml-idle-03", "no-such-worker", "--yes", env=sim.env(tmp_path)
    )
    assert result.returncode == 2
    assert "no worker 'no-such-worker'" in result.stderr
    assert instances(sim)["cml-idle-03"]["state"] == "running"  # nothing half done
    twin = instances(sim)["cml-eval-10"]
    ec2(sim).create_tags(Resources=[twin["id"]], Tags=[{"Key": "Name", "Value": "cml-busy-01"}])
    try:
        result = cmltui_command(
            "idle-detection", "off", "cml-busy-01", "--yes", env=sim.env(tmp_path)
        )
        assert result.returncode == 2
        assert "'cml-busy-01' names 2 workers" in result.stderr
        assert twin["id"] in result.stderr  # the candidates, by instance id
        assert audit(tmp_path) == []
    finally:
        ec2(sim).create_tags(Resources=[twin["id"]], Tags=[{"Key": "Name", "Value": "cml-eval-10"}])


def test_read_only_refuses_in_one_line_per_worker(sim, tmp_path):
    result = cmltui_command("--read-only", "pause", "cml-busy-01", "--yes", env=sim.env(tmp_path))
    assert result.returncode == 1
    assert result.stdout.strip() == "cml-busy-01: pause not done: read-only mode: pause not sent"
    assert instances(sim)["cml-busy-01"]["state"] == "running"


def test_a_terminal_asks_once_and_only_y_sends(sim, tmp_path):
    worker = instances(sim)["cml-nearpause-05"]
    argv = [sys.executable, "-m", "cmltui", "idle-detection", "off", "cml-nearpause-05"]
    with spawn(argv, sim.env(tmp_path)) as term:
        term.expect(b"[y/N]", 60)
        term.write(b"\r")  # Enter is no
        assert term.wait(30) == 1
        assert b"cancelled; nothing sent" in term.seen
    assert instances(sim)["cml-nearpause-05"]["tags"].get("cmltui:idle-detection") != "disabled"
    try:
        with spawn(argv, sim.env(tmp_path)) as term:
            term.expect(b"Toggle idle detection cml-nearpause-05? [y/N]", 60)
            term.write(b"y\r")
            assert term.wait(30) == 0
            assert b"cml-nearpause-05: idle detection OFF by " in term.seen
        assert instances(sim)["cml-nearpause-05"]["tags"]["cmltui:idle-detection"] == "disabled"
    finally:
        ec2(sim).create_tags(
            Resources=[worker["id"]], Tags=[{"Key": "cmltui:idle-detection", "Value": "enabled"}]
        )


def test_a_lab_stopped_by_command_is_stopped_in_virl2_clients_view(sim, tmp_path):
    fleet = snapshot(sim, tmp_path)
    worker = fleet["cml-labs-02"]
    lab = next(lab for lab in worker["labs"] if lab["state"] == "STARTED")
    client = cml_client(sim, worker)
    try:
        result = cmltui_command(
            "lab",
            "stop",
            "cml-labs-02",
            lab["id"],
            "--yes",
            "--format",
            "json",
            env=sim.env(tmp_path),
        )
        assert result.returncode == 0, result.stderr
        (event,) = json.loads(result.stdout)
        assert event["type"] == "worker.lab.changed"
        assert (event["data"]["lab_id"], event["data"]["lab_state"]) == (lab["id"], "STOPPED")
        assert client.join_existing_lab(lab["id"]).state() == "STOPPED"  # virl2-client's view
        lines = [a for a in audit(tmp_path) if a["action"] == "stop_lab"]
        assert [a["result"] for a in lines] == ["intent", "ok"]
        assert lines[0]["detail"] == {"lab_id": lab["id"], "lab_title": lab["title"]}
        # wiping a lab that runs is refused by the rule (shown state), nothing sent
        running = next(
            other for other in worker["labs"] if other["state"] == "STARTED" and other != lab
        )
        result = cmltui_command(
            "lab", "wipe", "cml-labs-02", running["title"], "--yes", env=sim.env(tmp_path)
        )
        assert result.returncode == 1
        assert "stop it before wiping it" in result.stdout
    finally:
        client.join_existing_lab(lab["id"]).start(wait=False)
        client.logout()


def test_a_bad_token_exits_1_with_cmls_reason_and_is_in_no_file(sim, tmp_path):
    token = "bad-" + secrets.token_hex(8)
    env = sim.env(tmp_path, T=token)
    result = cmltui_command(
        "licence", "register", "cml-unreg-12", "--token-env", "T", "--yes", env=env
    )
    assert result.returncode == 1
    assert "invalid input (400)" in result.stdout and "Invalid registration token" in result.stdout
    assert token not in result.stdout + result.stderr
    exact = cmltui_command(  # the token `bad` itself, as an operator would try it
        "licence",
        "register",
        "cml-unreg-12",
        "--token-env",
        "T",
        "--yes",
        env=sim.env(tmp_path, T="bad"),
    )
    assert exact.returncode == 1 and "Invalid registration token" in exact.stdout
    roots = [tmp_path / "state", tmp_path / "cache", tmp_path / "cfg"]
    assert (tmp_path / "state" / "cmltui" / "audit.jsonl").exists()
    assert files_holding(roots, token) == []
    results = [(a["action"], a["result"]) for a in audit(tmp_path)]
    assert results == [("register_licence", "intent"), ("register_licence", "failed")] * 2


def test_registration_completes_and_the_token_is_in_no_file(sim, tmp_path):
    token = "T0k-" + secrets.token_hex(12)
    env = sim.env(tmp_path, CMLTUI_LOG_LEVEL="DEBUG", SECRET=token)
    try:
        result = cmltui_command(
            "license",
            "register",
            "cml-unreg-12",
            "--token-env",
            "SECRET",
            "--yes",
            "--format",
            "json",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        steps = [(e["type"], e["data"]["step"]) for e in json.loads(result.stdout)]
        assert steps == [
            ("worker.license", "registration started"),
            ("worker.license", "registration completed"),
        ]
        assert snapshot(sim, tmp_path)["cml-unreg-12"]["license_status"] == "registered"
        roots = [tmp_path / "state", tmp_path / "cache", tmp_path / "cfg"]
        assert (tmp_path / "state" / "cmltui" / "log").exists()  # logged at DEBUG, still not there
        assert files_holding(roots, token) == []
        assert token not in result.stdout + result.stderr
    finally:
        done = cmltui_command("licence", "deregister", "cml-unreg-12", "--yes", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("cml-unreg-12: licence deregistered by ")
