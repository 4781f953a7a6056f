"""When an operator action or an auto-pause may be sent: one pure function for the TUI, the
command line and the core (README, "Keys", "Actions from the command line" and "Idle detection
and auto-pause").

The dashboard and the command line ask before they confirm anything; the core asks again before
it sends anything, and once more with what it re-reads right before a stop or start (of an
instance, or of a lab), so a key press, a palette entry, a command, a call from code and
auto-pause all meet the same rule. Which workers a bulk pause takes is decided here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Final, Literal

from cmltui.domain.enums import LicenseStatus, WorkerStatus
from cmltui.domain.idle import IdleState
from cmltui.domain.settle import LAB_CONFIRMS, LAB_RUNNING

ActionKind = Literal[
    "toggle_idle_detection",
    "pause",
    "resume",
    "auto_pause",
    "stop_lab",
    "start_lab",
    "wipe_lab",
    "register_licence",
    "deregister_licence",
]
LabVerb = Literal["stop", "start", "wipe"]
"""CML's lab operations (`PUT /labs/{lab_id}/stop`, `/start`, `/wipe`)."""
LAB_ACTIONS: Final[dict[LabVerb, ActionKind]] = {
    "stop": "stop_lab",
    "start": "start_lab",
    "wipe": "wipe_lab",
}

_ALLOWED: Final[dict[str, WorkerStatus]] = {
    "pause": WorkerStatus.RUNNING,
    "auto_pause": WorkerStatus.RUNNING,
    "resume": WorkerStatus.STOPPED,
    # What CML does (labs, the licence) needs its API, which answers only while the worker runs.
    "stop_lab": WorkerStatus.RUNNING,
    "start_lab": WorkerStatus.RUNNING,
    "wipe_lab": WorkerStatus.RUNNING,
    "register_licence": WorkerStatus.RUNNING,
    "deregister_licence": WorkerStatus.RUNNING,
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
    "stop_lab": "only a running worker's CML can stop a lab",
    "start_lab": "only a running worker's CML can start a lab",
    "wipe_lab": "only a running worker's CML can wipe a lab",
    "register_licence": "only a running worker's CML can register its licence",
    "deregister_licence": "only a running worker's CML can deregister its licence",
}

_LAB_ALREADY: Final[dict[str, tuple[frozenset[str], str]]] = {
    # A lab already in a state the action would confirm: nothing to send.
    "stop_lab": (LAB_CONFIRMS["stop"], "is already stopped"),
    "start_lab": (LAB_CONFIRMS["start"], "is already started"),
    "wipe_lab": (LAB_CONFIRMS["wipe"], "is already wiped"),
}


def verb_of(kind: ActionKind) -> str:
    """How messages name an action: `stop lab`, `register licence`, `toggle idle detection`."""
    return {
        "stop_lab": "stop lab",
        "start_lab": "start lab",
        "wipe_lab": "wipe lab",
    }.get(kind, kind.replace("_", " "))


def action_refusal(
    kind: ActionKind,
    *,
    name: str,
    status: WorkerStatus,
    read_only: bool = False,
    in_flight: bool = False,
    idle_detection: bool = True,
    sets_detection: bool | None = None,
    licence: LicenseStatus | None = None,
    lab_title: str | None = None,
    lab_state: str | None = None,
) -> str | None:
    """Why `kind` may not be sent to this worker now, or None when it may.

    `idle_detection` is the worker's idle detection as shown: for auto-pause both switches (a
    worker someone excluded from idle detection is never auto-paused); for a toggle that sets
    a value (`sets_detection`: `idle-detection on|off`, or a backend writing the opposite of
    what its caller saw) the worker's own switch, and a toggle to what it already is sends
    nothing. `licence` (as last read) matters to deregistration only: a worker with no
    registered licence has nothing to deregister. `lab_state` (CML's word, when known) matters
    to the lab actions only: a running lab is not wiped, a stopped one not stopped again.
    """
    # What the worker's state says comes first: `r` on a running worker is "already running"
    # whether or not the mode is read-only.
    if kind == "toggle_idle_detection":
        if status is WorkerStatus.TERMINATED:
            return f"{name} is terminated"
        if sets_detection is not None and sets_detection == idle_detection:
            return f"{name}: idle detection is already {'on' if sets_detection else 'off'}"
    elif status in _ALREADY.get(kind, ()):
        return f"{name} is already {status.value}"
    elif status is not _ALLOWED[kind]:
        return f"{name} is {status.value}; {_ONLY[kind]}"
    elif kind == "deregister_licence" and licence is LicenseStatus.UNREGISTERED:
        return f"{name} has no registered licence; nothing to deregister"
    if read_only:
        return f"read-only mode: {verb_of(kind)} not sent"
    if in_flight:
        return f"{name}: an action is already in flight; wait for it"
    if kind == "auto_pause" and not idle_detection:
        return f"{name}: idle detection is off for it (cmltui:idle-detection)"
    if kind in _LAB_ALREADY and lab_state is not None:
        return _lab_refusal(kind, lab_title or "the lab", lab_state.upper())
    return None


def _lab_refusal(kind: ActionKind, title: str, state: str) -> str | None:
    already, words = _LAB_ALREADY[kind]
    if state in already:
        return f"lab {title} {words} ({state})"
    if kind == "wipe_lab" and state in LAB_RUNNING:
        return f"lab {title} is running ({state}); stop it before wiping it"
    return None


@dataclass(frozen=True)
class Shown:
    """A worker as a screen or a command shows it: what the bulk-pause choice looks at."""

    worker_id: str
    name: str
    status: WorkerStatus
    idle_state: IdleState | None


def bulk_pause_choice(
    shown: Iterable[Shown],
    marked: Set[str],
    *,
    read_only: bool,
    in_flight: Set[str] = frozenset(),
) -> tuple[list[Shown], str]:
    """What a bulk pause takes (`P`, `cmltui pause --idle`), in the order given.

    The marked workers, or, when none is marked, every idle one; of those, only the ones the
    precondition rule lets pause (running, no action in flight). Returns them and the word for
    them ("marked", "idle").
    """
    if marked:
        chosen, why = [s for s in shown if s.worker_id in marked], "marked"
    else:
        chosen, why = [s for s in shown if s.idle_state is IdleState.IDLE], "idle"
    allowed = [
        s
        for s in chosen
        if action_refusal(
            "pause",
            name=s.name,
            status=s.status,
            read_only=read_only,
            in_flight=s.worker_id in in_flight,
        )
        is None
    ]
    return allowed, why
