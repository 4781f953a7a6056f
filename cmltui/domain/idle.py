"""Idle detection and auto-pause: one definition (README, "Idle detection and auto-pause").

Pure functions over plain facts (`latest`, `minutes_since`, `idle_verdict`, `state_of`), and
the same over a registry worker, so the idle checker, both mappers and every output agree on
what "idle" means and how each state reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from cmltui.domain.tags import idle_detection_tag
from cmltui.domain.times import not_ahead, parse_time
from cmltui.domain.worker import CMLWorker

ACTIVITY_CATEGORIES: Final = frozenset(
    {
        "start_lab",
        "stop_lab",
        "import_lab",
        "export_lab",
        "start_node",
        "stop_node",
        "queue_node",
        "boot_node",
        "wipe_node",
        "user_activity",
    }
)
SERVICE_ACCOUNT_PREFIX: Final = "00000000-0000-"


@dataclass(frozen=True)
class IdleSettings:
    enabled: bool = True  # global switch: compute idle status at all
    default_per_worker: bool = True  # when the worker has no `cmltui:idle-detection` tag
    auto_pause: bool = False  # act on it
    timeout: timedelta = timedelta(minutes=60)
    snooze: timedelta = timedelta(minutes=60)
    check_interval: timedelta = timedelta(seconds=300)


def detection_enabled_by(tags: Mapping[str, str], settings: IdleSettings) -> bool:
    """Switch 2 as these tags say it: the `cmltui:idle-detection` tag, else the config default."""
    tagged = idle_detection_tag(tags)
    return settings.default_per_worker if tagged is None else tagged


def detection_enabled_for(worker: CMLWorker, settings: IdleSettings) -> bool:
    """Switch 2 for a registry worker (its tags, with the monitor's own writes held)."""
    return detection_enabled_by(worker.tags, settings)


def detection_switched_on(tags: Mapping[str, str], settings: IdleSettings) -> bool:
    """Switches 1 and 2: idle status is computed at all, and for a worker with these tags."""
    return settings.enabled and detection_enabled_by(tags, settings)


def detection_active(worker: CMLWorker, settings: IdleSettings) -> bool:
    """Idle status is computed for running workers with both switches on."""
    return worker.is_running and settings.enabled and detection_enabled_for(worker, settings)


def latest(*times: datetime | None) -> datetime | None:
    """The latest of the times that are known; None when none is."""
    present = [t for t in times if t is not None]
    return max(present) if present else None


def minutes_since(reference: datetime | None, now: datetime) -> float | None:
    """Minutes from the reference time to now (never negative); None without a reference."""
    if reference is None:
        return None
    return max(0.0, (now - reference).total_seconds() / 60.0)


def idle_verdict(
    minutes: float | None, *, detection_on: bool, activity_known: bool, settings: IdleSettings
) -> bool | None:
    """Idle past the timeout; None while unknown (detection off, activity never read)."""
    if minutes is None or not detection_on or not activity_known:
        return None
    return minutes >= settings.timeout.total_seconds() / 60.0


def reference_time(worker: CMLWorker) -> datetime | None:
    """The latest of: newest activity, last start or resume (ours or external), launch."""
    return latest(worker.activity.last_activity_at, worker.last_start_at())


def idle_minutes(worker: CMLWorker, now: datetime) -> float | None:
    return minutes_since(reference_time(worker), now) if worker.is_running else None


def activity_known(worker: CMLWorker) -> bool:
    """Telemetry has been read at least once: before that, idleness is unknown, not "idle"."""
    return worker.activity.last_activity_check_at is not None


def is_idle(worker: CMLWorker, settings: IdleSettings, now: datetime) -> bool | None:
    """None while unknown: detection off, not running, or telemetry never read yet."""
    return idle_verdict(
        idle_minutes(worker, now),
        detection_on=detection_active(worker, settings),
        activity_known=activity_known(worker),
        settings=settings,
    )


class IdleState(StrEnum):
    """A running worker's idle state: the one set of values every screen and output shows.

    Never a guess: until telemetry has been read a worker is `unknown`, not `active`.
    """

    IDLE = "idle"  # idle past the timeout
    ACTIVE = "active"  # activity within the timeout
    UNKNOWN = "unknown"  # detection on, activity not read yet
    OFF = "off"  # idle detection switched off (globally or for the worker)
    SNOOZE = "snooze"  # just started or resumed: never paused in this window


@dataclass(frozen=True)
class IdleWords:
    """How a state reads: `short` in a table cell or a one-line list, `long` in a sentence."""

    short: str
    long: str


IDLE_WORDS: Final[Mapping[IdleState, IdleWords]] = {
    IdleState.IDLE: IdleWords("IDLE", "idle past the timeout"),
    IdleState.ACTIVE: IdleWords("active", "active within the timeout"),
    IdleState.UNKNOWN: IdleWords("?", "unknown: activity not read yet"),
    IdleState.OFF: IdleWords("off", "idle detection off"),
    IdleState.SNOOZE: IdleWords("snooze", "in snooze after a start or resume"),
}
NOT_RUNNING_WORDS: Final = IdleWords("-", "not running")


def idle_words(state: IdleState | str | None) -> IdleWords:
    """The words of a state (None: the worker is not running; an unknown string: `?`)."""
    if state is None:
        return NOT_RUNNING_WORDS
    try:
        return IDLE_WORDS[IdleState(state)]
    except ValueError:
        return IDLE_WORDS[IdleState.UNKNOWN]


def state_of(
    *,
    running: bool,
    detection_on: bool,
    in_snooze: bool,
    is_idle: bool | None,
) -> IdleState | None:
    """The one precedence: not running (None), off, snooze, unknown, then idle or active.

    Both backends' mappers call it, so a worker reads the same from either source.
    """
    if not running:
        return None
    if not detection_on:
        return IdleState.OFF
    if in_snooze:
        return IdleState.SNOOZE
    if is_idle is None:
        return IdleState.UNKNOWN
    return IdleState.IDLE if is_idle else IdleState.ACTIVE


def idle_state(worker: CMLWorker, settings: IdleSettings, now: datetime) -> IdleState | None:
    """The worker's state from its own facts (see `state_of`)."""
    return state_of(
        running=worker.is_running,
        detection_on=detection_active(worker, settings),
        in_snooze=in_snooze_period(worker, settings, now),
        is_idle=is_idle(worker, settings, now),
    )


def snooze_ends_at(worker: CMLWorker, settings: IdleSettings) -> datetime | None:
    started = worker.last_start_at()
    return started + settings.snooze if started is not None else None


def in_snooze_period(worker: CMLWorker, settings: IdleSettings, now: datetime) -> bool:
    ends = snooze_ends_at(worker, settings)
    return worker.is_running and ends is not None and now < ends


def target_pause_at(worker: CMLWorker, settings: IdleSettings) -> datetime | None:
    """Reference + timeout, pushed past the end of the snooze."""
    ref = reference_time(worker)
    if ref is None or not detection_active(worker, settings):
        return None
    target = ref + settings.timeout
    snooze_end = snooze_ends_at(worker, settings)
    return max(target, snooze_end) if snooze_end is not None else target


def next_idle_check_at(worker: CMLWorker, settings: IdleSettings, now: datetime) -> datetime | None:
    """Last check + interval; a worker never checked is due now."""
    if not detection_active(worker, settings):
        return None
    last = worker.activity.last_activity_check_at
    return last + settings.check_interval if last is not None else now


def eligible_for_auto_pause(worker: CMLWorker, settings: IdleSettings, now: datetime) -> bool:
    """Running, both switches on, idle, and not in snooze."""
    return bool(is_idle(worker, settings, now)) and not in_snooze_period(worker, settings, now)


@dataclass(frozen=True)
class TelemetryEvent:
    category: str
    timestamp: datetime | str | None  # as CML sent it; read with the one time parser
    data: Mapping[str, Any]


@dataclass(frozen=True)
class ActivityScan:
    newest_activity_at: datetime | None  # newest counting event after the old high-water mark
    high_water_mark: datetime | None  # newest timestamp seen at all
    user_ids: tuple[str, ...]  # users seen in the new counting events
    skipped: tuple[str, ...] = ()  # times of events not believed (unusable, or days ahead)
    skipped_count: int = 0


MAX_SKIPPED_SHOWN = 3


def event_user_id(event: TelemetryEvent) -> str | None:
    for key in ("user_id", "user", "owner"):
        value = event.data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def counts_as_activity(event: TelemetryEvent) -> bool:
    if event.category not in ACTIVITY_CATEGORIES:
        return False
    if event.category == "user_activity":
        user = event_user_id(event)
        return not (user or "").startswith(SERVICE_ACCOUNT_PREFIX)
    return True


def scan_telemetry(
    events: Iterable[TelemetryEvent], high_water: datetime | None, now: datetime | None = None
) -> ActivityScan:
    """Look only at events newer than the high-water mark; naive timestamps are UTC.

    An event whose time is not usable, or (given `now`) more than a day ahead, is skipped: it is
    neither activity nor a high-water mark, which would otherwise hide every real event until
    that day.
    """
    newest: datetime | None = None
    mark = high_water
    users: list[str] = []
    skipped: list[str] = []
    skipped_count = 0
    for event in events:
        stamp = parse_time(event.timestamp)
        if stamp is not None and now is not None:
            stamp = not_ahead(stamp, now)
        if stamp is None:
            skipped_count += 1
            if len(skipped) < MAX_SKIPPED_SHOWN:
                raw = event.timestamp
                skipped.append(raw.isoformat() if isinstance(raw, datetime) else str(raw))
            continue
        if high_water is not None and stamp <= high_water:
            continue
        mark = stamp if mark is None or stamp > mark else mark
        if not counts_as_activity(event):
            continue
        newest = stamp if newest is None or stamp > newest else newest
        user = event_user_id(event)
        if user and user not in users:
            users.append(user)
    return ActivityScan(newest, mark, tuple(users), tuple(skipped), skipped_count)
