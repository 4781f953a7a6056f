"""When an operator action or an auto-pause may be sent: one pure function for the TUI and
the core (README, "Keys" and "Idle detection and auto-pause").

The dashboard asks before it opens a dialog; the core asks again before it sends anything, and
once more with what it re-reads right before a stop or start, so a key press, a palette entry,
a call from code and auto-pause all meet the same rule.
"""

from __future__ import annotations

from typing import Final, Literal

from cmltui.domain.enums import WorkerStatus

ActionKind = Literal["toggle_idle_detection", "pause", "resume", "auto_pause"]

_ALLOWED: Final[dict[str, WorkerStatus]] = {
    "pause": WorkerStatus.RUNNING,
    "auto_pause": WorkerStatus.RUNNING,
    "resume": WorkerStatus.STOPPED,
}
_ALREADY: Final[dict[str, frozenset[WorkerStatus]]] = {
    "pause": frozenset({WorkerStatus.STOPPING, WorkerStatus.STOPPED}),
    "auto_pause": frozenset({WorkerStatus.STOPPING, WorkerStatus.STOPPED}),
    "resume": frozenset({WorkerStatus.PENDING, WorkerStatus.RUNNING}),
}
_ONLY: Final[dict[str, str]] = {
    "pause": "only a running worker can be paused",
    "auto_pause": "only a running worker can be paused",
    "resume": "only a stopped worker can be resumed",
}


def action_refusal(
    kind: ActionKind,
    *,
    name: str,
    status: WorkerStatus,
    read_only: bool = False,
    in_flight: bool = False,
    idle_detection: bool = True,
) -> str | None:
    """Why `kind` may not be sent to this worker now, or None when it may.

    `idle_detection` (both switches, as the worker's tag says) matters to auto-pause only: a
    worker someone excluded from idle detection is never auto-paused.
    """
    # What the worker's state says comes first: `r` on a running worker is "already running"
    # whether or not the mode is read-only.
    if kind == "toggle_idle_detection":
        if status is WorkerStatus.TERMINATED:
            return f"{name} is terminated"
    elif status in _ALREADY[kind]:
        return f"{name} is already {status.value}"
    elif status is not _ALLOWED[kind]:
        return f"{name} is {status.value}; {_ONLY[kind]}"
    if read_only:
        return f"read-only mode: {kind.replace('_', ' ')} not sent"
    if in_flight:
        return f"{name}: an action is already in flight; wait for it"
    if kind == "auto_pause" and not idle_detection:
        return f"{name}: idle detection is off for it (cmltui:idle-detection)"
    return None
