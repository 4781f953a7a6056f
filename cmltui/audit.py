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
from cmltui.domain.accounts import split_key, worker_key
from cmltui.domain.sanitize import error_text, public_json
from cmltui.jsonbounds import small_json
from cmltui.localfile import open_for_append, read_bounded

log = logging.getLogger(__name__)


def default_audit_path(*, demo: bool = False) -> Path:
    return paths.audit_log_file(demo=demo)


class AuditUnavailable(Exception):
    """The audit log cannot be written; an action that needs a record must not go ahead."""


READ_TAIL_BYTES = 1_000_000
"""How much of the file's end entries are read from (the detail screen's worker entries)."""
MAX_LINE = 8_192
MAX_LINE_DEPTH = 8
"""An audit line is a flat object with one small `detail` object: deeper is not ours."""


def read_tail(path: Path, max_bytes: int) -> list[bytes]:
    """The whole lines in the last `max_bytes` of the audit log; [] when it cannot be read.

    The file is data: something other than a regular file in its place (a FIFO, a device) or a
    read error counts as an empty log, said once in the log file.
    """
    try:
        data = read_bounded(path, max_bytes, tail=True)
    except FileNotFoundError:
        return []
    except OSError as exc:
        _warn_once(path, exc.strerror or type(exc).__name__)
        return []
    lines = data.splitlines()
    if len(data) >= max_bytes and lines:
        lines = lines[1:]  # the first line may be cut
    return lines


def parse_line(raw: bytes | str) -> dict[str, Any] | None:
    """One audit line as a dict; None when it is too long, broken, too deep or not an object."""
    entry = small_json(raw, max_chars=MAX_LINE, max_depth=MAX_LINE_DEPTH)
    return entry if isinstance(entry, dict) else None


def read_entries(
    path: Path,
    worker_id: str | None = None,
    limit: int | None = 50,
    *,
    actions: Collection[str] | None = None,
    max_bytes: int = READ_TAIL_BYTES,
    on_unreadable: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """The newest audit entries, oldest first, read from the file's last `max_bytes` only.

    Only one worker's when `worker_id` is given, only those `actions` when given, and at most
    `limit` (None: all found). A line that is cut, too long, broken or not an object is
    skipped: the file is data (`on_unreadable` is told how many). The one reader of the log:
    the detail screen's entries and the savings ledger's pauses and resumes both come from here.
    """
    wanted = split_key(worker_id)[1].encode() if worker_id is not None else b'"action"'
    found: list[dict[str, Any]] = []
    unreadable = 0
    for raw in read_tail(path, max_bytes):
        entry = parse_line(raw) if wanted in raw else None
        if entry is None:
            # Another worker's line is not unreadable; with no worker named, every line of
            # ours names its action, so one that does not is as broken as one that fails.
            if wanted in raw or (worker_id is None and raw.strip()):
                unreadable += 1
            continue
        if worker_id is not None and entry_key(entry) != worker_id:
            continue
        if actions is not None and entry.get("action") not in actions:
            continue
        found.append(entry)
    if unreadable and on_unreadable is not None:
        on_unreadable(unreadable)  # the readable part still counts
    return found if limit is None else found[-limit:]


def entry_key(entry: dict[str, Any]) -> str | None:
    """The worker key an audit line is about (its instance id, qualified by its account)."""
    instance_id, account = entry.get("instance_id"), entry.get("account")
    if not isinstance(instance_id, str) or not isinstance(account, str | None):
        return None
    return worker_key(account, instance_id)


_warned: set[tuple[str, str]] = set()


def _warn_once(path: Path, reason: str) -> None:
    if (str(path), reason) not in _warned and len(_warned) < 100:
        _warned.add((str(path), reason))
        log.warning("audit log %s cannot be read (%s); read as empty", path, reason)


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
        with open_for_append(self.path) as handle:
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
        account: str | None = None,
        error: str | None = None,
        detail: dict[str, Any] | None = None,
        required: bool = False,
    ) -> dict[str, Any]:
        """Append one line. With `required` (an intent line written before an AWS call), a line
        that cannot be written raises `AuditUnavailable` instead of only being logged.

        `worker_id` is the instance id (or a Cloud Manager's worker id); `account` names the
        configured AWS account it lives in, when the config names accounts.
        """
        entry: dict[str, Any] = {
            "time": at.isoformat(),
            "operator": operator,
            "action": action,
            "worker": worker_name,
            "instance_id": worker_id,
            "region": region,
            **({"account": account} if account is not None else {}),
            "result": result,
            "error": error_text(error, 1000) if error else None,
        }
        if detail:
            entry["detail"] = detail
        # Plain, finite JSON: NaN or an odd value in a detail never makes a line that is not JSON.
        line = json.dumps(public_json(entry), sort_keys=True, allow_nan=False)
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
