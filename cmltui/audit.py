"""The local audit log: one JSON line per action and auto-pause, in the platform state dir."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import platformdirs

from cmltui.logging_setup import redact

log = logging.getLogger(__name__)


class AuditUnavailable(OSError):
    """An audit line that had to be on disk before an action could not be written."""


DEMO_SUBDIR = "demo"


def user_dir(kind: Literal["state", "log"], *, demo: bool = False) -> Path:
    """The platform state or log directory; the demo gets its own `demo` folder inside it, so
    it never writes the operator's real audit log or log file. (The one place for these paths
    until `cmltui/paths.py` takes them over.)"""
    base = platformdirs.user_state_dir("cmltui") if kind == "state" else None
    base = base or platformdirs.user_log_dir("cmltui")
    return Path(base) / DEMO_SUBDIR if demo else Path(base)


def default_audit_path(*, demo: bool = False) -> Path:
    return user_dir("state", demo=demo) / "audit.jsonl"


READ_TAIL_BYTES = 1_000_000
MAX_LINE = 8_000


def read_entries(path: Path, worker_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The last `limit` audit entries of one worker, oldest first (reads the file's tail only).

    A line that is too long, broken or not an object is skipped: the file is data.
    """
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - READ_TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    found: list[dict[str, Any]] = []
    for raw in data.splitlines():
        if len(raw) > MAX_LINE or worker_id.encode() not in raw:
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("instance_id") == worker_id:
            found.append(entry)
    return found[-limit:]


class AuditLog:
    """Appends records durably (one write per line) and keeps the recent ones for the UI."""

    def __init__(self, path: Path | None = None, keep: int = 200) -> None:
        self.path = path or default_audit_path()
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def record(
        self,
        *,
        at: datetime,
        operator: str,
        action: str,
        worker_id: str,
        worker_name: str | None,
        region: str | None,
        result: str,
        error: str | None = None,
        detail: dict[str, Any] | None = None,
        durable: bool = False,
    ) -> dict[str, Any]:
        """Append one line. `durable` lines (an action's intent) are flushed to disk before
        this returns, and a failure raises `AuditUnavailable` so that nothing is sent unaudited.
        """
        entry: dict[str, Any] = {
            "time": at.isoformat(),
            "operator": operator,
            "action": action,
            "worker": worker_name,
            "instance_id": worker_id,
            "region": region,
            "result": result,
            "error": redact(error) if error else None,
        }
        if detail:
            entry["detail"] = detail
        line = json.dumps(entry, sort_keys=True)
        with self._lock:
            self.recent.append(entry)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
                    if durable:
                        handle.flush()
                        os.fsync(handle.fileno())
            except OSError as exc:
                log.error("cannot write audit log %s: %s", self.path, exc)
                if durable:
                    raise AuditUnavailable(
                        f"cannot write the audit log {self.path}: {exc}"
                    ) from exc
        return entry
