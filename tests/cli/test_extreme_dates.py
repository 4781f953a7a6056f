"""`cmltui snapshot` against the simulated fleet while some workers carry a date at the edge of
the calendar: in a pause tag, a resume tag, a CML licence expiry and a CML telemetry event.

The run must list every worker, exit 0, and mark only the poisoned field of each poisoned worker
unknown, with the raw text in that worker's errors. Everything else reads as in a clean run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import pytest_asyncio

from cmltui.sim import SimulatedFleet
from cmltui.sim.cml_labs import SimEvent
from cmltui.sim.runner import simulate_exports
from tests.cli.test_snapshot import clean_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXTREMES = (
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+05:00",
)
PAUSED = "cml-snooze-04"  # carries cmltui:last-paused-at
RESUMED = "cml-nearpause-05"  # carries cmltui:last-resumed-at
LICENSED = "cml-busy-01"  # its CML's licence expires then
TELEMETRY = "cml-idle-03"  # its CML reports one event then
COMPARED = ("status", "service_status", "license_status", "last_paused_at", "last_resumed_at")


async def snapshot_json(fleet: SimulatedFleet, home: Path) -> tuple[int, dict[str, Any], str]:
    """`cmltui snapshot --format json` in its own process, pointed at the running fleet."""
    env = clean_env(home, **dict(simulate_exports(fleet)))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cmltui",
        "snapshot",
        "--format",
        "json",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    text = out.decode()
    data = json.loads(text, parse_constant=_refuse) if text.strip() else {}
    return proc.returncode or 0, data, err.decode()


def _refuse(constant: str) -> None:
    raise AssertionError(f"not JSON: {constant}")


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {worker["name"]: worker for worker in data["workers"]}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def clean_run(fleet: SimulatedFleet, tmp_path_factory) -> dict[str, dict[str, Any]]:
    code, data, err = await snapshot_json(fleet, tmp_path_factory.mktemp("clean"))
    assert code == 0, err
    return by_name(data)


@pytest.mark.parametrize("payload", EXTREMES)
async def test_snapshot_lists_every_worker_and_marks_only_the_poisoned_fields(
    fleet, clean_run, tmp_path, payload
):
    ec2 = boto3.client(
        "ec2",
        region_name=fleet.region,
        endpoint_url=fleet.aws_endpoint_url,
        **fleet.aws_credentials,
    )
    ec2.create_tags(
        Resources=[fleet.worker(PAUSED).instance_id],
        Tags=[{"Key": "cmltui:last-paused-at", "Value": payload}],
    )
    ec2.create_tags(
        Resources=[fleet.worker(RESUMED).instance_id],
        Tags=[{"Key": "cmltui:last-resumed-at", "Value": payload}],
    )
    licensed = fleet.worker(LICENSED).model
    licensed.license_expires = payload
    events = fleet.worker(TELEMETRY).model.events
    poison = SimEvent("start_lab", datetime.fromisoformat(payload), {"lab_id": "x"})
    events.append(poison)
    try:
        code, data, err = await snapshot_json(fleet, tmp_path)
    finally:
        licensed.license_expires = None
        events.remove(poison)

    assert code == 0, err
    assert "Traceback" not in err
    workers = by_name(data)
    assert set(workers) == set(clean_run)  # every worker listed
    assert data["errors"] == []

    def problem(name: str, source: str) -> str:
        return workers[name]["errors"].get(source, "")

    assert workers[PAUSED]["last_paused_at"] is None
    assert clean_run[PAUSED]["last_paused_at"] is not None
    assert "cmltui:last-paused-at" in problem(PAUSED, "tags") and payload in problem(PAUSED, "tags")
    assert workers[RESUMED]["last_resumed_at"] is None
    assert payload in problem(RESUMED, "tags")
    assert workers[LICENSED]["license_status"] is None
    assert clean_run[LICENSED]["license_status"] is not None
    assert "authorization.expires" in problem(LICENSED, "licensing")
    assert payload in problem(LICENSED, "licensing")
    # The bad event is skipped: the worker's activity reads as before, and says why.
    assert workers[TELEMETRY]["last_activity_at"] == clean_run[TELEMETRY]["last_activity_at"]
    assert workers[TELEMETRY]["idle_state"] == clean_run[TELEMETRY]["idle_state"]
    assert payload in problem(TELEMETRY, "telemetry")

    # Unknown, not absent: the JSON says which fields came in unreadable.
    assert workers[PAUSED]["unknown_fields"] == ["last_paused_at"]
    assert workers[RESUMED]["unknown_fields"] == ["last_resumed_at"]
    assert workers[LICENSED]["unknown_fields"] == ["license_status"]
    assert workers[TELEMETRY]["unknown_fields"] == []

    poisoned = {PAUSED, RESUMED, LICENSED, TELEMETRY}
    for name, worker in workers.items():
        if name in poisoned:
            continue
        for field in COMPARED:
            assert worker[field] == clean_run[name][field], (name, field)
        assert set(worker["errors"]) == set(clean_run[name]["errors"]), name
        assert worker["unknown_fields"] == [], name
    # A poisoned worker loses only its poisoned field: the rest reads as in the clean run.
    for name, spared in [
        (PAUSED, ("status", "license_status", "last_resumed_at")),
        (RESUMED, ("status", "license_status", "last_paused_at")),
        (LICENSED, ("status", "service_status", "last_paused_at", "last_activity_at")),
        (TELEMETRY, ("status", "service_status", "license_status")),
    ]:
        for field in spared:
            assert workers[name][field] == clean_run[name][field], (name, field)
