"""`cmltui watch` end to end, as a script runs it: JSON lines, flushed, and clean exits."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time

import pytest

from cmltui.cli.exits import EXIT_SIGINT, EXIT_SIGTERM
from cmltui.sim.runner import simulate_exports
from tests.backends.direct.sim_core import make_core
from tests.cli.test_snapshot import clean_env, cmltui


def watch(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cmltui", "watch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def lines_until(proc: subprocess.Popen[str], wanted: str, timeout: float = 90) -> list[dict]:
    """Lines read (each must be JSON) until one of channel `wanted` arrives."""
    assert proc.stdout is not None
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = proc.stdout.readline()
        assert raw, f"watch ended early: {proc.stderr.read() if proc.stderr else ''}"
        seen.append(json.loads(raw))
        if seen[-1]["channel"] == wanted:
            return seen
    raise AssertionError(f"no {wanted} line within {timeout} s: {seen}")


def test_count_five_prints_five_lines_and_a_snapshot_line_has_the_snapshot_commands_fields(
    tmp_path,
):
    env = clean_env(tmp_path)
    result = cmltui("watch", "--demo", "--count", "5", env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 5
    assert {line["channel"] for line in lines} <= {"snapshot", "activity", "status"}
    snapshot = next(line for line in lines if line["channel"] == "snapshot")
    assert (snapshot["type"], snapshot["source"]) == (
        "worker.snapshot",
        "domain.cml_worker.snapshot",
    )
    once = json.loads(cmltui("snapshot", "--demo", "--format", "json", env=env).stdout)
    assert set(snapshot) - {"channel", "type", "source"} == set(once)
    assert len(snapshot["workers"]) == len(once["workers"]) == 12
    assert {tuple(sorted(w)) for w in snapshot["workers"]} == {
        tuple(sorted(w)) for w in once["workers"]
    }
    # The source's own states come as lines too: starting, then ok once the fleet was read.
    states = [line["state"] for line in lines if line["channel"] == "status"]
    assert states[:2] == ["starting", "ok"]
    for line in lines:
        if line["channel"] == "activity":
            assert set(line) == {"channel", "type", "source", "data"}
            assert line["source"] == "domain.worker_activity"


def test_channel_activity_prints_only_activity_events(tmp_path):
    result = cmltui(
        "watch", "--demo", "--channel", "activity", "--count", "2", env=clean_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["channel"] for line in lines] == ["activity", "activity"]
    assert all(line["type"] == "worker.activity.updated" for line in lines)


def test_a_reader_that_goes_away_ends_it_at_once_without_a_traceback(tmp_path):
    """`cmltui watch | head -1`: the reader leaves long before the next snapshot is due."""
    proc = watch("--demo", "--interval", "600", env=clean_env(tmp_path))
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    assert json.loads(first)["channel"] == "status"
    proc.stdout.close()  # what `head -1` does after its line
    started = time.monotonic()
    code = proc.wait(timeout=30)
    assert time.monotonic() - started < 10
    stderr = proc.stderr.read()
    assert code == 0 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, EXIT_SIGINT), (signal.SIGTERM, EXIT_SIGTERM)]
)
def test_ctrl_c_and_sigterm_exit_with_their_codes_and_no_traceback(tmp_path, signum, code):
    proc = watch("--demo", env=clean_env(tmp_path))
    lines_until(proc, "snapshot")  # running for real: the fleet was read once
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == code
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_toggle_by_another_cmltui_is_a_line_within_one_cycle(fleet, tmp_path):
    """`cmltui watch` against the simulated fleet; another cmltui (a core of its own, as the
    dashboard or an action command would be) flips idle detection of one worker."""
    env = clean_env(tmp_path / "watch", **dict(simulate_exports(fleet)))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cmltui", "watch", "--interval", "2",
        "--channel", "snapshot", "--channel", "activity",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        limit=2**24,  # a snapshot line is the whole fleet
    )  # fmt: skip
    assert proc.stdout is not None

    async def next_line() -> dict:
        raw = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert raw, (await proc.stderr.read()).decode() if proc.stderr else ""
        return json.loads(raw)

    other = make_core(fleet, tmp_path / "other")
    try:
        first = await next_line()
        while first["channel"] != "snapshot":
            first = await next_line()
        dto = next(w for w in first["workers"] if w["name"] == "cml-eval-10")
        await other.collector.collect()
        toggled = await other.actions.toggle_idle_detection(
            dto["id"], dto["is_idle_detection_enabled"]
        )
        flipped_at = time.monotonic()
        while True:
            line = await next_line()
            if line.get("type") == "worker.idle_detection.toggled":
                break
        assert time.monotonic() - flipped_at < 2 + 8  # the next cycle, with room for load
        assert line["channel"] == "activity" and line["source"] == "domain.worker_activity"
        assert line["data"]["worker_id"] == dto["id"]
        assert line["data"]["is_enabled"] is toggled.is_enabled
        assert line["data"]["toggled_by"] == "external"
        await other.actions.toggle_idle_detection(dto["id"], toggled.is_enabled)  # put back
    finally:
        await other.close()
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == EXIT_SIGTERM
