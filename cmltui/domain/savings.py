"""What pausing saved: a stopped worker saves its hourly price for every hour it stays stopped.

Stopped intervals come from three places, and no hour is counted twice (overlaps merge):

- the audit log: a pause (manual or auto) and the resume that followed it;
- the pause tags: the current stop cmltui made (`cmltui:last-paused-at`);
- EC2's state-transition time: the current stop someone else made (external).

Pure arithmetic over those intervals, tested with a stepped clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cmltui.domain.enums import PauseReason, WorkerStatus
from cmltui.domain.times import parse_time
from cmltui.domain.worker import PauseHistory


class SavingKind(StrEnum):
    AUTO = "auto"  # idle detection paused it
    MANUAL = "manual"  # an operator paused it through cmltui
    EXTERNAL = "external"  # stopped outside cmltui (console, CLI, schedule)


class Basis(StrEnum):
    """What a stopped interval is known from."""

    AUDIT_LOG = "audit log"
    PAUSE_TAGS = "pause tags"
    EC2_STOP_TIME = "EC2 stop time"


@dataclass(frozen=True, slots=True)
class StopInterval:
    start: datetime
    end: datetime | None  # None: still stopped
    kind: SavingKind
    basis: Basis


@dataclass(frozen=True)
class Savings:
    """Hours stopped per kind, and money saved at `price_per_hour` (None when unpriced)."""

    hours: Mapping[SavingKind, float]
    price_per_hour: float | None
    since: datetime | None
    basis: tuple[Basis, ...]

    def usd(self, kind: SavingKind | None = None) -> float | None:
        if self.price_per_hour is None:
            return None
        hours = self.hours.get(kind, 0.0) if kind else sum(self.hours.values())
        return hours * self.price_per_hour

    @property
    def total_hours(self) -> float:
        return sum(self.hours.values())


_REASON_KIND = {
    PauseReason.IDLE_TIMEOUT: SavingKind.AUTO,
    PauseReason.MANUAL: SavingKind.MANUAL,
    PauseReason.EXTERNAL: SavingKind.EXTERNAL,
}
_STOPPED = (WorkerStatus.STOPPED, WorkerStatus.STOPPING)


INTENT_WINDOW = timedelta(minutes=10)
"""A pause counts only with its `intent` line (written before the AWS call) at most this long
before it: actions give up on AWS well within it."""


def audit_intervals(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[StopInterval]]:
    """Per instance: each successful pause, closed by the first successful resume after it.

    A pause with no resume after it stays open (end None); `worker_intervals` decides its end.
    Failed or refused actions stopped nothing and are skipped, and so is a pause without the
    intent line cmltui writes before it sends one: a forged line alone earns nothing.
    """
    events: list[tuple[datetime, str, str, bool]] = []
    for entry in entries:
        action = entry.get("action")
        if action not in ("pause", "auto_pause", "resume"):
            continue
        result = entry.get("result")
        intent = result == "intent"
        if not (intent or (isinstance(result, str) and result.startswith("ok"))):
            continue
        when = parse_time(entry.get("time"))
        worker = entry.get("instance_id")
        if when is None or not isinstance(worker, str):
            continue
        events.append((when, worker, action, intent))
    events.sort(key=lambda e: e[0])  # stable: an intent stays before its result
    intents: dict[tuple[str, str], list[datetime]] = {}
    out: dict[str, list[StopInterval]] = {}
    for when, worker, action, intent in events:
        if intent:
            intents.setdefault((worker, action), []).append(when)
            continue
        intervals = out.setdefault(worker, [])
        last = intervals[-1] if intervals else None
        if action == "resume":
            if last is not None and last.end is None:
                intervals[-1] = StopInterval(last.start, when, last.kind, last.basis)
            continue
        if not _take_intent(intents.get((worker, action)), when):
            continue  # no intent before it: not a pause cmltui sent
        if last is not None and last.end is None:
            continue  # already paused: a second pause record stops nothing more
        kind = SavingKind.AUTO if action == "auto_pause" else SavingKind.MANUAL
        intervals.append(StopInterval(when, None, kind, Basis.AUDIT_LOG))
    return out


def _take_intent(pending: list[datetime] | None, when: datetime) -> bool:
    """Use up the latest intent in the window before `when`; False when there is none."""
    while pending:
        latest = pending.pop()
        if latest <= when <= latest + INTENT_WINDOW:
            return True
    return False


def current_stop(
    status: WorkerStatus, history: PauseHistory, ec2_stopped_at: datetime | None = None
) -> StopInterval | None:
    """The stop in progress: from the pause tags, or EC2's transition time for an external one.

    `history` is the tags' history with external stops already overlaid (`derive_external`).
    """
    if status not in _STOPPED:
        return None
    reason = history.pause_reason
    start = history.last_paused_at
    if reason is PauseReason.EXTERNAL or start is None:
        start = start if reason is PauseReason.EXTERNAL and start else ec2_stopped_at
        if start is None:
            return None
        return StopInterval(start, None, SavingKind.EXTERNAL, Basis.EC2_STOP_TIME)
    return StopInterval(start, None, _REASON_KIND.get(reason, SavingKind.MANUAL), Basis.PAUSE_TAGS)


def worker_intervals(
    audited: Sequence[StopInterval],
    status: WorkerStatus,
    history: PauseHistory,
    ec2_stopped_at: datetime | None = None,
    created_at: datetime | None = None,
) -> list[StopInterval]:
    """The audit log's intervals plus the current stop, with every open end settled.

    An open audited pause ended at the last resume the tags know of (another operator's, or an
    external start) if there is one after it; else it is still going if the worker is stopped
    now; else nothing says when it ended, and it is left out rather than guessed.

    Nothing is saved before the instance existed (`created_at`): an audited pause older than
    it is not counted (a forged line, or another instance's), and the current stop starts no
    earlier than it.
    """
    intervals: list[StopInterval] = []
    stopped = status in _STOPPED
    resumed_at = history.last_resumed_at
    for item in audited:
        if created_at is not None and item.start < created_at:
            continue
        if item.end is not None:
            intervals.append(item)
        elif resumed_at is not None and resumed_at > item.start:
            intervals.append(StopInterval(item.start, resumed_at, item.kind, item.basis))
        elif stopped:
            intervals.append(item)
    now_stopped = current_stop(status, history, ec2_stopped_at)
    if now_stopped is not None:
        if created_at is not None and now_stopped.start < created_at:
            now_stopped = replace(now_stopped, start=created_at)
        intervals.append(now_stopped)
    return intervals


def merge(intervals: Iterable[StopInterval], now: datetime) -> list[StopInterval]:
    """Union of the intervals, each hour once; where two overlap the earlier start's kind wins.

    Open ends are closed at `now`; anything starting after `now` is ignored.
    """
    closed = sorted(
        (
            StopInterval(i.start, min(i.end or now, now), i.kind, i.basis)
            for i in intervals
            if i.start < now
        ),
        key=lambda i: (i.start, i.end or now),
    )
    merged: list[StopInterval] = []
    for item in closed:
        end = item.end or now
        if end <= item.start:
            continue
        if merged and item.start < (merged[-1].end or now):
            last = merged[-1]
            if end > (last.end or now):
                merged[-1] = StopInterval(last.start, end, last.kind, last.basis)
            continue
        merged.append(item)
    return merged


def savings(
    intervals: Iterable[StopInterval], price_per_hour: float | None, now: datetime
) -> Savings:
    """Hours stopped per kind (each hour once) and what they saved at the current price."""
    intervals = list(intervals)
    merged = merge(intervals, now)
    hours: dict[SavingKind, float] = {}
    for item in merged:
        length = ((item.end or now) - item.start).total_seconds() / 3600.0
        hours[item.kind] = hours.get(item.kind, 0.0) + length
    # Every source that vouched for a counted hour, even where another said the same.
    counted = (i for i in intervals if i.start < now and (i.end is None or i.end > i.start))
    basis = tuple(dict.fromkeys(item.basis for item in counted)) if merged else ()
    since = merged[0].start if merged else None
    return Savings(hours=hours, price_per_hour=price_per_hour, since=since, basis=basis)
