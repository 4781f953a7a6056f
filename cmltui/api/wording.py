"""One line for each action's event, as the activity log and the command line both say it.

Plain Python: the dashboard's log and `cmltui pause …` word a pause, a lab stop or a licence
registration the same way. Outside text in an event (a lab title, CML's reason) is made visible
by whoever shows the line.
"""

from __future__ import annotations

from cmltui.api.events import (
    ActivityEvent,
    IdleDetectionToggled,
    LabChanged,
    LicenceChanged,
    WorkerPaused,
    WorkerResumed,
)

UNKNOWN_ACTOR = "unknown"
"""Who acted, when the source did not say (Cloud Manager's REST stop passes no user)."""


def describe_action(event: ActivityEvent, name: str) -> str | None:
    """The line for an action's event; None for other events (an activity check)."""
    if isinstance(event, IdleDetectionToggled):
        state = "ON" if event.is_enabled else "OFF"
        return f"{name}: idle detection {state} by {event.toggled_by or UNKNOWN_ACTOR}"
    if isinstance(event, WorkerPaused):
        return (
            f"{name}: pause ({event.pause_reason}) by {event.paused_by or UNKNOWN_ACTOR}"
            f" · pauses auto {event.auto_pause_count} manual {event.manual_pause_count}"
        )
    if isinstance(event, WorkerResumed):
        return (
            f"{name}: resume ({event.resume_reason}) by {event.resumed_by or UNKNOWN_ACTOR}"
            f" · resumes auto {event.auto_resume_count} manual {event.manual_resume_count}"
        )
    if isinstance(event, LabChanged):
        lab = event.lab_title or event.lab_id
        state = f" · now {event.lab_state}" if event.lab_state else ""
        done = {"stop": "stopped", "start": "started", "wipe": "wiped"}[event.action]
        return f"{name}: lab {lab} {done} by {event.changed_by}{state}"
    if isinstance(event, LicenceChanged):
        by = f" by {event.by}" if event.by else ""
        detail = f": {event.detail}" if event.detail else ""
        return f"{name}: licence {event.step}{by}{detail}"
    return None
