"""The settle rule in the core (SPEC §1): a stale read never undoes the monitor's own write.

EC2 tags and states are eventually consistent, and a collection may have started before an
action and finish after it. Every write cmltui makes is kept as a `PendingWrite` on the worker.
A listing confirms it (shows the written value) or, once the listing started later than the
write plus the settle time and still disagrees, overrides it: someone else changed it back.
Until then the written value stands, for the idle checker, auto-pause, the DTO and the TUI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from cmltui.domain.enums import WorkerStatus

V = TypeVar("V")

STOP_CONFIRMS = frozenset(
    {
        WorkerStatus.STOPPING,
        WorkerStatus.STOPPED,
        WorkerStatus.SHUTTING_DOWN,
        WorkerStatus.TERMINATED,
    }
)
START_CONFIRMS = frozenset({WorkerStatus.PENDING, WorkerStatus.RUNNING})


@dataclass(frozen=True)
class PendingWrite(Generic[V]):
    """A value the monitor wrote at `at`; listed values in `confirms` agree with it."""

    value: V
    at: datetime
    confirms: frozenset[V] | None = None  # None: only the value itself agrees

    def agrees_with(self, listed: object) -> bool:
        return listed in self.confirms if self.confirms is not None else listed == self.value

    def outlived_by(self, read_started: datetime, settle: timedelta) -> bool:
        """A read that started after the settle window and still disagrees wins."""
        return read_started > self.at + settle


def merge_tags(
    listed: dict[str, str],
    pending: dict[str, PendingWrite[str]],
    read_started: datetime,
    settle: timedelta,
) -> dict[str, str]:
    """The listed tags with the writes a stale listing cannot undo laid over them.

    Writes that the listing confirms or outlives are dropped from `pending`.
    """
    merged = dict(listed)
    for key, write in list(pending.items()):
        if write.agrees_with(listed.get(key)) or write.outlived_by(read_started, settle):
            del pending[key]
        else:
            merged[key] = write.value
    return merged


def settle_status(
    listed: WorkerStatus,
    pending: PendingWrite[WorkerStatus] | None,
    read_started: datetime,
    settle: timedelta,
) -> tuple[WorkerStatus, PendingWrite[WorkerStatus] | None]:
    """The status to keep after a listing, and the pending state change still standing."""
    if pending is None:
        return listed, None
    if pending.agrees_with(listed) or pending.outlived_by(read_started, settle):
        return listed, None
    return pending.value, pending
