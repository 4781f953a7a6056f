"""The pause/resume and lab confirmations: No is the default answer.

The dialog names what the operator is about to affect (worker, instance, type, cost, the running
labs and the people seen on it) so that a stop is never a surprise. Focus starts on **No**:
Enter, `n` and Escape cancel; only `y` or a click on Yes confirm. Yes cannot take the focus, so
Tab then Enter cannot confirm by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar, Final, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from cmltui.api.dto import CMLWorkerDto, LabDto
from cmltui.domain.idle import IdleState, idle_words
from cmltui.domain.rules import LabVerb
from cmltui.keymap import Scope
from cmltui.tui.fmt import NONE, duration, money, shown_time
from cmltui.tui.hints import own_hint
from cmltui.tui.safe import fit_cells, plain, shown

Kind = Literal["pause", "resume"]
MAX_LABS = 6
LABEL = 13
TITLE_WIDTH = 24
OWNER_WIDTH = 12


def running_labs(dto: CMLWorkerDto) -> list[tuple[str, str, int | None]]:
    """(title, owner, nodes) of the worker's started labs, by title."""
    labs = [lab for lab in dto.labs or () if lab.state == "STARTED"]
    labs.sort(key=lambda lab: lab.title.lower())
    return [(lab.title, lab.owner or NONE, lab.node_count) for lab in labs]


def people(dto: CMLWorkerDto) -> list[str]:
    """Users seen recently, then owners of running labs; each once, in that order."""
    seen: dict[str, None] = {}
    for name in [*dto.recent_users, *(owner for _t, owner, _n in running_labs(dto))]:
        if name and name != NONE:
            seen.setdefault(name, None)
    return list(seen)


def _row(text: Text, label: str, value: str, style: str = "") -> None:
    text.append(f"{label:<{LABEL}}", "dim")
    text.append(shown(value), style)  # names, owners and users come from AWS and CML
    text.append("\n")


def _fit(value: str, width: int) -> str:
    return fit_cells(value, width)


def running_rate(dto: CMLWorkerDto) -> float | None:
    """$/h while running: a stopped worker's DTO costs 0 now, but resuming costs its price."""
    return dto.hourly_price


def dialog_body(dto: CMLWorkerDto, kind: Kind, now: datetime) -> Text:
    """What the dialog says about the worker (plain text for tests via `.plain`)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    _row(text, "Worker", dto.name, "bold")
    _row(text, "Instance", f"{dto.id} · {dto.aws_region}")
    rate = running_rate(dto)
    cost = f"{money(rate)}/h" if rate is not None else "price unknown"
    _row(text, "Type", f"{dto.instance_type or NONE} · {cost}")
    if kind == "pause":
        _row(text, "Effect", "StopInstances · running labs and nodes go down", "yellow")
        if dto.idle_minutes is not None:
            idle = duration(dto.idle_minutes * 60)
            idle_word = idle_words(IdleState.IDLE).short
            _row(text, "Idle for", f"{idle}" + (f"  {idle_word}" if dto.is_idle else ""))
    else:
        _row(text, "Effect", f"StartInstances · billing resumes at {cost}", "yellow")
        paused = shown_time(dto, "last_paused_at", dto.last_paused_at, now=now)
        if paused is not None:
            why = getattr(dto.pause_reason, "value", dto.pause_reason) or "?"
            _row(text, "Last pause", f"{paused} by {dto.paused_by or '?'} ({why})")
    labs = running_labs(dto)
    if dto.labs is None:
        label = "unknown (CML not reachable)" if kind == "pause" else "none while stopped"
        _row(text, "Running labs", label, "dim")
    elif not labs:
        _row(text, "Running labs", "none", "dim")
    else:
        nodes = sum(n or 0 for _t, _o, n in labs)
        _row(text, "Running labs", f"{len(labs)} · {nodes} nodes", "bold")
        for title, owner, count in labs[:MAX_LABS]:
            text.append(" " * 2)
            text.append(_fit(title, TITLE_WIDTH))
            text.append(" " + _fit(owner, OWNER_WIDTH), "cyan")
            text.append(f" {NONE if count is None else count:>3} nodes\n")
        if len(labs) > MAX_LABS:
            text.append(f"  … and {len(labs) - MAX_LABS} more\n", "dim")
    users = people(dto)
    _row(text, "Users seen", ", ".join(users) if users else "none recently", "" if users else "dim")
    text.rstrip()
    return text


ANSWER_BINDINGS: Final = (
    Binding("y", "answer(True)", "Yes", show=True),
    Binding("n,escape", "answer(False)", "No", show=True),
    Binding("enter", "answer(False)", "No", show=False, priority=True),
)
"""Only `y` is yes; Enter (on the focused No), `n` and Esc are no."""


def answer_hint(bindings: Iterable[Binding] = ANSWER_BINDINGS) -> str:
    """ "y: yes · n, Esc or Enter: no", from the dialog's own bindings."""
    yes = own_hint(bindings, "answer(True)", "{key}: yes")
    return f"{yes} · {own_hint(bindings, 'answer(False)', '{key}: no')}"


def yes_button(label: str) -> Button:
    """A Yes that a click presses but the focus never reaches (Tab, arrows)."""
    button = Button(label, id="yes", variant="error")
    button.can_focus = False
    return button


class AnswerScreen(ModalScreen[bool]):
    """A yes/no dialog whose default is No: dismisses with True only on `y` or a click on Yes."""

    SCOPE: ClassVar = Scope.DIALOG
    AUTO_FOCUS = "#no"
    BINDINGS: ClassVar = list(ANSWER_BINDINGS)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ConfirmScreen(AnswerScreen):
    """A confirmation with a question, what it affects, and Yes/No; only Yes confirms."""

    BINDINGS: ClassVar = [
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        /* 72: the Instance line holds a Cloud Manager id (36) and the longest region */
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $panel; padding: 0 1;
    }
    ConfirmScreen #question { text-style: bold; width: 100%; height: 1; }
    ConfirmScreen #details { width: 100%; height: auto; margin: 1 0 0 0; text-wrap: nowrap; }
    ConfirmScreen #hint { color: $text-muted; width: 100%; height: 1; }
    ConfirmScreen Horizontal { height: 3; width: 100%; align: center middle; }
    ConfirmScreen Button { margin: 0 2; min-width: 14; }
    """

    def __init__(self, dto: CMLWorkerDto, now: datetime) -> None:
        super().__init__()
        self.dto = dto
        self._now = now

    @property
    def verb(self) -> str:
        """What is confirmed, in the title and on the Yes button."""
        raise NotImplementedError

    @property
    def question(self) -> str:
        raise NotImplementedError

    def body(self) -> Text:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Confirm {self.verb}"
            box.border_subtitle = "default: No"
            yield Static(plain(self.question, limit=200), id="question")
            yield Static(self.body(), id="details")
            with Horizontal():
                yield yes_button(f"Yes, {self.verb}")
                yield Button("No", id="no", variant="primary")
            yield Static(Text(answer_hint()), id="hint")


class ConfirmActionScreen(ConfirmScreen):
    """Asks "Pause <name>?" or "Resume <name>?"; dismisses with True only on Yes."""

    def __init__(self, dto: CMLWorkerDto, kind: Kind, now: datetime) -> None:
        super().__init__(dto, now)
        self.kind: Kind = kind

    @property
    def verb(self) -> str:
        return self.kind

    @property
    def question(self) -> str:
        return f"{self.kind.capitalize()} {self.dto.name}?"

    def body(self) -> Text:
        return dialog_body(self.dto, self.kind, self._now)


LAB_EFFECTS: Final[dict[LabVerb, str]] = {
    "stop": "its nodes stop; their disks are kept",
    "start": "its nodes start, one a second",
    "wipe": "its nodes are reset: unsaved work is lost",
}


def lab_body(dto: CMLWorkerDto, lab: LabDto, verb: LabVerb) -> Text:
    """What the lab dialog says (plain text for tests via `.plain`)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    _row(text, "Lab", lab.title, "bold")
    _row(text, "Lab id", lab.id)
    _row(text, "Owner", lab.owner or NONE)
    nodes = NONE if lab.node_count is None else f"{lab.node_count} nodes"
    _row(text, "State", f"{lab.state} · {nodes}")
    _row(text, "Worker", f"{dto.name} · {dto.id}")
    _row(text, "Effect", LAB_EFFECTS[verb], "yellow")
    text.rstrip()
    return text


class LabConfirmScreen(ConfirmScreen):
    """Asks "Stop lab <title> on <worker>?" (start, wipe); only `y` or Yes confirm."""

    def __init__(self, dto: CMLWorkerDto, lab: LabDto, verb: LabVerb, now: datetime) -> None:
        super().__init__(dto, now)
        self.lab = lab
        self.lab_verb: LabVerb = verb

    @property
    def verb(self) -> str:
        return f"{self.lab_verb} lab"

    @property
    def question(self) -> str:
        return f"{self.lab_verb.capitalize()} lab {self.lab.title} on {self.dto.name}?"

    def body(self) -> Text:
        return lab_body(self.dto, self.lab, self.lab_verb)
