"""The local audit log: one JSON line per action and auto-pause, in the platform state dir."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from cmltui import paths
from cmltui.domain.sanitize import error_text

log = logging.getLogger(__name__)


def default_audit_path(*, demo: bool = False) -> Path:
    return paths.audit_log_file(demo=demo)


class AuditUnavailable(Exception):
    """The audit log cannot be written; an action that needs a record must not go ahead."""


READ_TAIL_BYTES = 1_000_000
"""How much of the file's end one worker's entries are read from (the detail screen)."""
MAX_LINE = 8_192


def read_entries(
    path: Path,
    worker_id: str | None = None,
    limit: int | None = 50,
    *,
    actions: Collection[str] | None = None,
    max_bytes: int = READ_TAIL_BYTES,
) -> list[dict[str, Any]]:
    """The newest audit entries, oldest first, read from the file's last `max_bytes` only.

    Only one worker's when `worker_id` is given, only those `actions` when given, and at most
    `limit` (None: all found). A line that is cut, too long, broken or not an object is
    skipped: the file is data. The one reader of the log: the detail screen's entries and the
    savings ledger's pauses and resumes both come from here.
    """
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read(max_bytes)
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.warning("cannot read audit log %s: %s", path, exc)
        return []
    lines = data.splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]  # the first line is cut
    wanted = worker_id.encode() if worker_id is not None else b'"action"'
    found: list[dict[str, Any]] = []
    for raw in lines:
        if len(raw) > MAX_LINE or wanted not in raw:
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        if worker_id is not None and entry.get("instance_id") != worker_id:
            continue
        if actions is not None and entry.get("action") not in actions:
            continue
        found.append(entry)
    return found if limit is None else found[-limit:]


class AuditLog:
    """Appends records durably (one write per line) and keeps the recent ones for the UI.

    `problem` says, in one line, why the log cannot be written (None when it can); `usable` is
    its short form. Actions consult it before sending anything to AWS.
    """

    def __init__(self, path: Path | None = None, keep: int = 200) -> None:
        self.path = path or default_audit_path()
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []  # told after each write
        self.problem: str | None = None
        self.check()

    @property
    def usable(self) -> bool:
        return self.problem is None

    def check(self) -> str | None:
        """Try to open the log for appending (creating its directory); remember the outcome."""
        with self._lock:
            try:
                self._append("")
            except OSError as exc:
                self.problem = self._describe(exc)
            else:
                self.problem = None
        return self.problem

    def _describe(self, exc: OSError) -> str:
        reason = exc.strerror or type(exc).__name__
        return f"audit log {self.path} cannot be written ({reason}): actions are refused"

    def _append(self, text: str, *, sync: bool = False) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            if text:
                handle.write(text)
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())

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
        required: bool = False,
    ) -> dict[str, Any]:
        """Append one line. With `required` (an intent line written before an AWS call), a line
        that cannot be written raises `AuditUnavailable` instead of only being logged."""
        entry: dict[str, Any] = {
            "time": at.isoformat(),
            "operator": operator,
            "action": action,
            "worker": worker_name,
            "instance_id": worker_id,
            "region": region,
            "result": result,
            "error": error_text(error, 1000) if error else None,
        }
        if detail:
            entry["detail"] = detail
        line = json.dumps(entry, sort_keys=True)
        with self._lock:
            try:
                self._append(line + "\n", sync=required)
            except OSError as exc:
                self.problem = self._describe(exc)
                log.error("cannot write audit log %s: %s", self.path, exc)
                if required:
                    raise AuditUnavailable(self.problem) from None
            else:
                self.problem = None
            self.recent.append(entry)
        for listener in list(self.listeners):
            listener(entry)
        return entry
