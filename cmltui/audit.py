"""The local audit log: one JSON line per action and auto-pause, in the platform state dir."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from cmltui.logging_setup import redact

log = logging.getLogger(__name__)


class AuditUnavailable(OSError):
    """An audit line that had to be on disk before an action could not be written."""


def default_audit_path() -> Path:
    return Path(platformdirs.user_state_dir("cmltui")) / "audit.jsonl"


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
