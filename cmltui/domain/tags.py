"""The `cmltui:*` EC2 tags: idle-detection switch and pause/resume history (README documents them).

Keeping history on the instance lets every operator, a fresh cmltui process and the AWS console
see the same counters and the same last pause and resume.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from cmltui.clock import ensure_utc
from cmltui.domain.enums import PauseReason
from cmltui.domain.sanitize import has_visible
from cmltui.domain.times import not_ahead, parse_time, time_problem
from cmltui.domain.worker import PauseHistory

DISCOVERY_TAG: Final = "cml-worker"
#: The default EC2 discovery filter: every instance carrying the tag key, whatever its value.
DEFAULT_DISCOVERY_FILTERS: Final = ({"Name": "tag-key", "Values": [DISCOVERY_TAG]},)
NAME_TAG: Final = "Name"
CML_URL_TAG: Final = "cmltui:cml-url"
CREATED_BY_TAGS: Final = ("cmltui:created-by", "created-by", "owner", "Owner")
IDLE_DETECTION_TAG: Final = "cmltui:idle-detection"

LAST_PAUSED_AT: Final = "cmltui:last-paused-at"
LAST_PAUSED_BY: Final = "cmltui:last-paused-by"
PAUSE_REASON: Final = "cmltui:pause-reason"
LAST_RESUMED_AT: Final = "cmltui:last-resumed-at"
LAST_RESUMED_BY: Final = "cmltui:last-resumed-by"
AUTO_PAUSE_COUNT: Final = "cmltui:auto-pause-count"
MANUAL_PAUSE_COUNT: Final = "cmltui:manual-pause-count"
AUTO_RESUME_COUNT: Final = "cmltui:auto-resume-count"
MANUAL_RESUME_COUNT: Final = "cmltui:manual-resume-count"
TIME_TAGS: Final = (LAST_PAUSED_AT, LAST_RESUMED_AT)

IDLE_ENABLED: Final = "enabled"
IDLE_DISABLED: Final = "disabled"


def idle_detection_tag(tags: Mapping[str, str]) -> bool | None:
    """The per-worker switch from its tag; None when absent or unreadable (default applies)."""
    value = tags.get(IDLE_DETECTION_TAG, "").strip().lower()
    if value == IDLE_ENABLED:
        return True
    if value == IDLE_DISABLED:
        return False
    return None


def history_from_tags(tags: dict[str, str], now: datetime | None = None) -> PauseHistory:
    """Read the pause/resume history back; a malformed tag reads as absent, never as a crash.

    With `now`, a pause or resume time more than a day ahead reads as absent too: a forged
    resume in the future would otherwise keep the worker in snooze, never auto-paused.
    """
    reason = tags.get(PAUSE_REASON)
    return PauseHistory(
        auto_pause_count=_count(tags.get(AUTO_PAUSE_COUNT)),
        manual_pause_count=_count(tags.get(MANUAL_PAUSE_COUNT)),
        auto_resume_count=_count(tags.get(AUTO_RESUME_COUNT)),
        manual_resume_count=_count(tags.get(MANUAL_RESUME_COUNT)),
        last_paused_at=_tag_time(tags, LAST_PAUSED_AT, now),
        last_paused_by=tags.get(LAST_PAUSED_BY) or None,
        pause_reason=PauseReason(reason) if reason in PauseReason._value2member_map_ else None,
        last_resumed_at=_tag_time(tags, LAST_RESUMED_AT, now),
        last_resumed_by=tags.get(LAST_RESUMED_BY) or None,
    )


def tag_time_problems(tags: dict[str, str], history: PauseHistory) -> str | None:
    """One line naming each time tag that is present but was not usable (None when all were).

    `history` is what `history_from_tags` read from these tags: nothing is parsed twice.
    """
    read = {LAST_PAUSED_AT: history.last_paused_at, LAST_RESUMED_AT: history.last_resumed_at}
    problems = [
        time_problem(key, tags[key]) for key in TIME_TAGS if read[key] is None and tags.get(key)
    ]
    return "; ".join(problems) or None


def _tag_time(tags: dict[str, str], key: str, now: datetime | None) -> datetime | None:
    when = parse_time(tags.get(key))
    return when if now is None else not_ahead(when, now)


def pause_tags(history: PauseHistory) -> dict[str, str]:
    """The tags a pause writes (after StopInstances)."""
    return {
        LAST_PAUSED_AT: format_time(history.last_paused_at),
        LAST_PAUSED_BY: history.last_paused_by or "",
        PAUSE_REASON: history.pause_reason.value if history.pause_reason else "",
        AUTO_PAUSE_COUNT: str(history.auto_pause_count),
        MANUAL_PAUSE_COUNT: str(history.manual_pause_count),
    }


def resume_tags(history: PauseHistory) -> dict[str, str]:
    """The tags a resume writes (after StartInstances)."""
    return {
        LAST_RESUMED_AT: format_time(history.last_resumed_at),
        LAST_RESUMED_BY: history.last_resumed_by or "",
        AUTO_RESUME_COUNT: str(history.auto_resume_count),
        MANUAL_RESUME_COUNT: str(history.manual_resume_count),
    }


def worker_name(name: str | None, instance_id: str) -> str:
    """A worker's name: its `Name` tag (or Cloud Manager's name), unless that shows nothing
    on a terminal (blank, or only fillers, marks or controls); then its instance id."""
    return name if name and has_visible(name) else instance_id


def created_by(tags: dict[str, str]) -> str | None:
    for key in CREATED_BY_TAGS:
        if tags.get(key):
            return tags[key]
    return None


def format_time(value: datetime | None) -> str:
    return ensure_utc(value).isoformat(timespec="seconds") if value else ""


def _count(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0
