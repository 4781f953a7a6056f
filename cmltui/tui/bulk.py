"""Pause several workers at once: the marked ones, or every idle one (SPEC §2.5, issue 10).

One dialog lists every worker it would stop, with each one's burn and the total, so nothing is
stopped by surprise. As with a single pause, No is the default: Enter, `n` and Esc cancel, only
`y` or a click on Yes confirm, and Yes never takes the focus.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from cmltui.api.dto import CMLWorkerDto
from cmltui.tui.confirm import running_rate, yes_button
from cmltui.tui.fmt import NONE, coarse_age, money
from cmltui.tui.textsafe import visible

NAME_WIDTH = 22


def bulk_body(dtos: Sequence[CMLWorkerDto]) -> Text:
    """One line per worker (name, region, idle for, $/h, running labs) and the total burn."""
    text = Text(no_wrap=True, overflow="ellipsis")
    total = 0.0
    for dto in dtos:
        rate = running_rate(dto)
        total += rate or 0.0
        name = visible(dto.name)
        text.append(f"{name[:NAME_WIDTH]:<{NAME_WIDTH}} ", "bold")
        text.append(f"{visible(dto.aws_region):<12} ", "dim")
        if dto.is_idle and dto.idle_minutes is not None:
            text.append(f"{'IDLE ' + coarse_age(dto.idle_minutes * 60):<10} ", "bold yellow")
        else:
            text.append(f"{'active':<10} ")
        text.append(f"{money(rate) + '/h' if rate is not None else NONE:>9}")
        labs = sum(1 for lab in dto.labs or () if lab.state == "STARTED")
        if labs:
            text.append(f"  {labs} lab{'s' if labs > 1 else ''} running", "bold yellow")
        text.append("\n")
    text.append(f"{'Total burn stopped':<{NAME_WIDTH + 24}}", "bold")
    text.append(f"{money(total) + '/h':>9}", "bold")
    unpriced = sum(1 for dto in dtos if running_rate(dto) is None)
    if unpriced:
        text.append(f"  + {unpriced} unpriced", "yellow")
    return text


class BulkPauseScreen(ModalScreen[bool]):
    """ "Pause N workers?" with every one listed; dismisses with True only on Yes."""

    AUTO_FOCUS = "#no"
    BINDINGS: ClassVar = [
        Binding("y", "answer(True)", "Yes", show=True),
        Binding("n,escape", "answer(False)", "No", show=True),
        Binding("enter", "answer(False)", "No", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    BulkPauseScreen { align: center middle; }
    BulkPauseScreen > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $panel; padding: 0 1;
    }
    BulkPauseScreen #question { text-style: bold; width: 100%; height: auto; }
    BulkPauseScreen VerticalScroll { height: auto; max-height: 20; margin: 1 0 0 0; }
    BulkPauseScreen #workers { width: 100%; height: auto; text-wrap: nowrap; }
    BulkPauseScreen #hint { color: $text-muted; width: 100%; height: 1; }
    BulkPauseScreen Horizontal { height: 3; width: 100%; align: center middle; }
    BulkPauseScreen Button { margin: 0 2; min-width: 14; }
    """

    def __init__(self, dtos: Sequence[CMLWorkerDto], why: str) -> None:
        super().__init__()
        self.dtos = list(dtos)
        self.why = why

    @property
    def question(self) -> str:
        count = len(self.dtos)
        return f"Pause {count} {self.why} worker{'s' if count > 1 else ''}?"

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Confirm pause"
            box.border_subtitle = "default: No"
            yield Static(Text(self.question), id="question")
            with VerticalScroll(can_focus=False):
                yield Static(bulk_body(self.dtos), id="workers")
            with Horizontal():
                yield yes_button(f"Yes, pause {len(self.dtos)}")
                yield Button("No", id="no", variant="primary")
            yield Static("StopInstances per region · y: yes · n, Esc or Enter: no", id="hint")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
