"""cmltui's own files with something else in their place: a FIFO (whose `open()` blocks until a
writer comes), a symlink to /dev/zero (which reads for ever), a regular file far too big, JSON
nested 400,000 levels deep. Each ends in one line or an empty cache or log, never in a hang, a
`MemoryError` or a `RecursionError`: for the price cache, the audit log (both readers and the
writer), the log file and the config (`--config`, `CMLTUI_CONFIG` and the default place).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from cmltui.audit import AuditLog, read_entries
from cmltui.backends.direct.pricing import PriceCache
from cmltui.backends.direct.savings import pause_entries
from cmltui.config import ConfigError, load_config
from cmltui.localfile import LocalFileError, open_for_append, read_bounded
from tests.cli.test_snapshot import clean_env, cmltui

T = TypeVar("T")
WID = "i-0aaaaaaaaaaaaaaa1"
DEEP = "[" * 400_000
SHAPES = ["fifo", "dev-zero", "directory"]


def in_place(path: Path, shape: str) -> Path:
    """Put something that is not a regular file where `path` should be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if shape == "fifo":
        os.mkfifo(path)
    elif shape == "dev-zero":
        path.symlink_to("/dev/zero")
    elif shape == "directory":
        path.mkdir()
    elif shape == "huge":
        with path.open("wb") as handle:
            handle.truncate(3 * 1024 * 1024 * 1024)  # sparse: 3 GiB on paper
    elif shape == "deep":
        path.write_text(DEEP)
    else:
        raise ValueError(shape)
    return path


def within(seconds: float, call: Callable[[], T]) -> T:
    """`call()`, failing the test (not hanging it) when it does not return in time."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s: it hangs"
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- the reader itself -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_only_regular_files_are_read(tmp_path, shape):
    path = in_place(tmp_path / "file", shape)
    with pytest.raises(LocalFileError) as caught:
        within(5, lambda: read_bounded(path, 1000))
    assert caught.value.strerror.startswith("not a regular file (")
    with pytest.raises(OSError):  # LocalFileError, or EISDIR for a directory
        within(5, lambda: open_for_append(path))


def test_reads_stop_at_the_stated_size(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"a" * 100 + b"b" * 50)
    assert read_bounded(path, 150) == path.read_bytes()
    with pytest.raises(LocalFileError, match="larger than 100 bytes"):
        read_bounded(path, 100)
    assert read_bounded(path, 60, tail=True) == b"a" * 10 + b"b" * 50
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "missing", 10)


def test_appending_creates_the_file_and_appends(tmp_path):
    path = tmp_path / "log"
    for text in ("one\n", "two\n"):
        with open_for_append(path) as handle:
            handle.write(text)
    assert path.read_text() == "one\ntwo\n"


# -- the price cache ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [*SHAPES, "huge", "deep"])
def test_a_damaged_price_cache_counts_as_empty_with_one_log_line(tmp_path, caplog, shape):
    path = in_place(tmp_path / "prices.json", shape)
    cache = PriceCache(path)
    cache.entries = {("x", "y"): None}  # type: ignore[dict-item]  # must be cleared
    with caplog.at_level(logging.WARNING, logger="cmltui.backends.direct.pricing"):
        within(10, cache.load)
    assert cache.entries == {}
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and str(path) in lines[0], lines


# -- the audit log -----------------------------------------------------------------------------


def line(when: str, action: str, result: str) -> str:
    return json.dumps({"time": when, "action": action, "instance_id": WID, "result": result})


@pytest.mark.parametrize("shape", [*SHAPES, "huge"])
def test_a_damaged_audit_log_reads_as_empty_with_one_log_line(tmp_path, caplog, shape):
    path = in_place(tmp_path / "audit.jsonl", shape)
    with caplog.at_level(logging.WARNING, logger="cmltui.audit"):
        assert within(10, lambda: read_entries(path, WID)) == []
        assert within(10, lambda: pause_entries(path)) == []
        assert within(10, lambda: read_entries(path, WID)) == []  # said once, not per read
    if shape != "huge":  # a huge file is read at its tail: only zeros there, no line
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 1 and str(path) in lines[0], lines


def test_an_audit_log_with_a_deep_line_reads_its_readable_part(tmp_path, caplog):
    path = tmp_path / "audit.jsonl"
    when = datetime(2026, 3, 2, 8, tzinfo=UTC).isoformat()
    rows = [
        line(when, "pause", "intent"),
        "[" * 7_000,  # under the line limit, far over any JSON depth
        '{"action": ' * 3_000,
        line(when, "pause", "ok"),
    ]
    path.write_text("\n".join(rows) + "\n")
    assert [e["result"] for e in within(10, lambda: read_entries(path, WID))] == ["intent", "ok"]
    with caplog.at_level(logging.WARNING, logger="cmltui.backends.direct.savings"):
        entries = within(10, lambda: pause_entries(path))
    assert [e["result"] for e in entries] == ["intent", "ok"]
    assert [r.getMessage() for r in caplog.records] == [
        f"audit log {path}: 2 unreadable lines skipped"
    ]


@pytest.mark.parametrize("shape", SHAPES)
def test_an_audit_log_that_cannot_be_a_file_refuses_actions_and_never_hangs(tmp_path, shape):
    path = in_place(tmp_path / "audit.jsonl", shape)
    audit = within(10, lambda: AuditLog(path))
    assert not audit.usable
    assert str(path) in (audit.problem or "") and "actions are refused" in (audit.problem or "")


# -- the config --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [*SHAPES, "huge", "deep"])
def test_a_config_that_cannot_be_read_is_one_line_naming_it(tmp_path, shape):
    path = tmp_path / "config.toml"
    if shape == "deep":
        path.write_text("a = " + DEEP)
    else:
        in_place(path, shape)
    for how in ("flag", "env"):
        with pytest.raises(ConfigError) as caught:
            if how == "flag":
                within(10, lambda: load_config(str(path), env={}))
            else:
                within(10, lambda: load_config(None, env={"CMLTUI_CONFIG": str(path)}))
        message = str(caught.value)
        assert "\n" not in message and message.startswith(f"{path}: "), message


@pytest.mark.parametrize("shape", ["fifo", "dev-zero"])
def test_cmltui_with_a_fifo_or_dev_zero_config_says_one_line_and_exits(tmp_path, shape):
    path = in_place(tmp_path / "config.toml", shape)
    result = cmltui(
        "--config", str(path), "snapshot", "--demo", env=clean_env(tmp_path), timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "not a regular file" in lines[0]
    assert result.stdout == ""
    # The default place, not named by the user, is held to the same rule.
    default = tmp_path / "cfg" / "cmltui" / "config.toml"
    in_place(default, shape)
    result = cmltui("snapshot", "--demo", env=clean_env(tmp_path), timeout=60)
    assert result.returncode == 2 and "not a regular file" in result.stderr


@pytest.mark.parametrize("shape", ["fifo", "dev-zero"])
def test_snapshot_runs_with_a_fifo_or_dev_zero_as_its_audit_log_and_log_file(tmp_path, shape):
    state = tmp_path / "state" / "cmltui"
    in_place(state / "demo" / "audit.jsonl", shape)
    in_place(state / "log" / "demo" / "cmltui.log", shape)
    result = cmltui(
        "snapshot", "--demo", "--workers", "3", "--format", "json", env=clean_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["workers"]) == 3
    lines = result.stderr.strip().splitlines()
    assert lines and "cannot write log file" in lines[0] and "not a regular file" in lines[0]
    assert "Traceback" not in result.stderr
