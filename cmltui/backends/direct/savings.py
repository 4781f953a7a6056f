"""Earlier stopped intervals, read from the audit log once and kept current as actions happen.

The file is read on a worker thread (its last few megabytes only), so a long audit log never
stalls a collector cycle; new pauses and resumes arrive through the audit log's listener.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from cmltui.audit import AuditLog, entry_key, read_entries
from cmltui.domain.savings import StopInterval, audit_intervals
from cmltui.domain.times import parse_time

log = logging.getLogger(__name__)

MAX_READ_BYTES = 8 * 1024 * 1024
PAUSE_ACTIONS = frozenset({"pause", "auto_pause", "resume"})


def pause_entries(path: Path, max_bytes: int = MAX_READ_BYTES) -> list[dict[str, Any]]:
    """The pause and resume records in the last `max_bytes` of the audit log (bad lines are
    skipped and said once in the log: the file's readable part is what counts)."""

    def say(count: int) -> None:
        log.warning("audit log %s: %d unreadable lines skipped", path, count)

    return read_entries(
        path, None, None, actions=PAUSE_ACTIONS, max_bytes=max_bytes, on_unreadable=say
    )


class SavingsLedger:
    """Stopped intervals per worker key, from the audit log (file plus new records)."""

    def __init__(self, audit: AuditLog) -> None:
        self._path = audit.path
        self._lock = threading.Lock()
        self._entries: dict[str, list[dict[str, Any]]] = {}
        self._intervals: dict[str, list[StopInterval]] = {}
        self._loaded = False
        self.first_record_at: datetime | None = None
        audit.listeners.append(self._on_record)

    @property
    def by_worker(self) -> Mapping[str, Sequence[StopInterval]]:
        return self._intervals

    async def ensure_loaded(self) -> None:
        if not self._loaded:
            await asyncio.to_thread(self.load)

    def load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            for entry in pause_entries(self._path):
                self._add(entry)
            self._intervals = {wid: _intervals_of(es) for wid, es in self._entries.items()}
            self._loaded = True

    def _on_record(self, entry: dict[str, Any]) -> None:
        if entry.get("action") not in PAUSE_ACTIONS:
            return
        with self._lock:
            if not self._loaded:
                return  # the file, read later, holds it
            worker = self._add(entry)
            if worker is not None:
                intervals = dict(self._intervals)
                intervals[worker] = _intervals_of(self._entries[worker])
                self._intervals = intervals  # replaced whole: readers never see it half-made

    def _add(self, entry: dict[str, Any]) -> str | None:
        worker = entry_key(entry)
        if worker is None:
            return None
        self._entries.setdefault(worker, []).append(entry)
        when = parse_time(entry.get("time"))
        if when is not None and (self.first_record_at is None or when < self.first_record_at):
            self.first_record_at = when
        return worker


def _intervals_of(entries: list[dict[str, Any]]) -> list[StopInterval]:
    return next(iter(audit_intervals(entries).values()), [])
