"""Stops and starts done outside cmltui, derived on read from EC2 facts (README, "Tags cmltui
reads and writes")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cmltui.domain.enums import PauseReason, WorkerStatus
from cmltui.domain.worker import CMLWorker, PauseHistory

EXTERNAL_TOLERANCE = timedelta(minutes=2)
"""A stop this long after cmltui's recorded pause is someone else's."""


def known_history(tagged: PauseHistory, unwritten: PauseHistory | None) -> PauseHistory:
    """The history the tags hold, or the one this process made and could not write as tags
    when that one is newer: a stop whose tags AWS refused is still the operator's."""
    if unwritten is None or _latest(unwritten) <= _latest(tagged):
        return tagged
    return unwritten


def _latest(history: PauseHistory) -> datetime:
    times = [t for t in (history.last_paused_at, history.last_resumed_at) if t is not None]
    return max(times, default=datetime.min.replace(tzinfo=UTC))


def derive_external(worker: CMLWorker, history: PauseHistory) -> PauseHistory:
    """Overlay external stops and starts on the history read from the tags; writes nothing."""
    if worker.status in (WorkerStatus.STOPPED, WorkerStatus.STOPPING):
        stopped_at = worker.ec2_state_transition_at
        if stopped_at is not None and (
            history.last_paused_at is None
            or stopped_at > history.last_paused_at + EXTERNAL_TOLERANCE
        ):
            return replace(
                history,
                last_paused_at=stopped_at,
                last_paused_by=None,
                pause_reason=PauseReason.EXTERNAL,
            )
    if worker.status is WorkerStatus.RUNNING:
        started = [t for t in (worker.launch_time, worker.activity.external_start_at) if t]
        started_at = max(started) if started else None
        paused_before = (
            history.last_paused_at is not None
            and started_at is not None
            and (started_at > history.last_paused_at)
        )
        resumed_by_us = (
            history.last_resumed_at is not None
            and started_at is not None
            and (started_at <= history.last_resumed_at + EXTERNAL_TOLERANCE)
        )
        if (
            started_at is not None
            and (worker.activity.external_start_at == started_at or paused_before)
            and not resumed_by_us
        ):
            return replace(history, last_resumed_at=started_at, last_resumed_by=None)
    return history
