"""The audit log's one tail reader: one worker's entries, a few actions, only the file's end."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cmltui.audit import AuditLog, read_entries

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _write(audit: AuditLog, worker_id: str, action: str, result: str = "ok") -> None:
    audit.record(
        at=T0,
        operator="tester",
        action=action,
        worker_id=worker_id,
        worker_name=worker_id,
        region="us-east-1",
        result=result,
    )


def test_one_workers_newest_entries_oldest_first(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    for n in range(5):
        _write(audit, "i-a", "pause", f"r{n}")
        _write(audit, "i-b", "resume")
    with audit.path.open("a") as handle:
        handle.write('{"instance_id": "i-a", broken\n[1, "i-a"]\n' + "x" * 9000 + "i-a\n")
    entries = read_entries(audit.path, "i-a", limit=3)
    assert [e["result"] for e in entries] == ["r2", "r3", "r4"]
    assert all(e["instance_id"] == "i-a" for e in entries)
    assert read_entries(audit.path, "i-none") == []
    assert read_entries(tmp_path / "missing.jsonl", "i-a") == []


def test_a_filter_by_action_and_a_cut_first_line(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    for n in range(50):
        _write(audit, f"i-{n:02d}", "pause" if n % 2 else "other")  # lines of one length
    size = audit.path.stat().st_size
    line = len(audit.path.read_text().splitlines()[0]) + 1
    cut = 10 * line + line // 2
    tail = read_entries(audit.path, None, None, actions={"pause"}, max_bytes=cut)
    # Ten and a half lines: the half line is dropped, not parsed from the middle.
    assert len(tail) == 5 and all(e["action"] == "pause" for e in tail)
    assert tail[-1]["instance_id"] == "i-49"
    assert size > 10 * line
    everything = read_entries(audit.path, None, None)
    assert len(everything) == 50 and json.loads(json.dumps(everything)) == everything
