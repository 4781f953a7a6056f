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
    LicenceDeregistered,
    LicenceRegistrationCompleted,
    LicenceRegistrationFailed,
    LicenceRegistrationStarted,
    WorkerPaused,
    WorkerResumed,
)


def describe_action(event: ActivityEvent, name: str) -> str | None:
    """The line for an action's event; None for other events (an activity check)."""
    if isinstance(event, IdleDetectionToggled):
        state = "ON" if event.is_enabled else "OFF"
        return f"{name}: idle detection {state} by {event.toggled_by}"
    if isinstance(event, WorkerPaused):
        return (
            f"{name}: pause ({event.pause_reason}) by {event.paused_by}"
            f" · pauses auto {event.auto_pause_count} manual {event.manual_pause_count}"
        )
    if isinstance(event, WorkerResumed):
        return (
            f"{name}: resume ({event.resume_reason}) by {event.resumed_by}"
            f" · resumes auto {event.auto_resume_count} manual {event.manual_resume_count}"
        )
    if isinstance(event, LabChanged):
        lab = event.lab_title or event.lab_id
        state = f" · now {event.lab_state}" if event.lab_state else ""
        return f"{name}: lab {lab} {event.action} by {event.changed_by}{state}"
    if isinstance(event, LicenceRegistrationStarted):
        return f"{name}: licence registration started by {event.initiated_by}"
    if isinstance(event, LicenceRegistrationCompleted):
        status = f" ({event.registration_status})" if event.registration_status else ""
        return f"{name}: licence registration completed{status}"
    if isinstance(event, LicenceRegistrationFailed):
        return f"{name}: licence registration failed: {event.error_message}"
    if isinstance(event, LicenceDeregistered):
        note = f" · {event.message}" if event.message else ""
        return f"{name}: licence deregistered by {event.initiated_by}{note}"
    return None
