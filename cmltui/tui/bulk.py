"""Pause several workers at once: the marked ones, or every idle one (the README's `P`).

One dialog lists every worker it would stop, with each one's idle state, burn and the total, so
nothing is stopped by surprise. As with a single pause, No is the default: Enter, `n` and Esc
cancel, only `y` or a click on Yes confirm, and Yes never takes the focus.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from cmltui.api.dto import CMLWorkerDto
from cmltui.domain.idle import IdleState
from cmltui.tui.columns import idle_label
from cmltui.tui.confirm import AnswerScreen, answer_hint, running_rate, yes_button
from cmltui.tui.fmt import NONE, money, plural
from cmltui.tui.safe import fit_cells

NAME_WIDTH = 22
BulkRow = tuple[CMLWorkerDto, IdleState | None]
"""A worker to pause and its idle state as the dashboard shows it."""


def bulk_body(rows: Sequence[BulkRow]) -> Text:
    """One line per worker (name, region, idle state, $/h, running labs) and the total burn.

    The idle state is the table's word for it: `IDLE 3h`, `active`, `snooze`, and `?` while
    unknown, never "active" for a worker not known to be busy.
    """
    text = Text(no_wrap=True, overflow="ellipsis")
    total = 0.0
    for dto, state in rows:
        rate = running_rate(dto)
        total += rate or 0.0
        text.append(fit_cells(dto.name, NAME_WIDTH) + " ", "bold")
        text.append(fit_cells(dto.aws_region, 12) + " ", "dim")
        word = idle_label(dto, state)
        text.append(f"{word:<10} ", "bold yellow" if state is IdleState.IDLE else "")
        text.append(f"{money(rate) + '/h' if rate is not None else NONE:>9}")
        labs = sum(1 for lab in dto.labs or () if lab.state == "STARTED")
        if labs:
            text.append(f"  {labs} lab{'s' if labs > 1 else ''} running", "bold yellow")
        text.append("\n")
    text.append(f"{'Total burn stopped':<{NAME_WIDTH + 24}}", "bold")
    text.append(f"{money(total) + '/h':>9}", "bold")
    unpriced = sum(1 for dto, _state in rows if running_rate(dto) is None)
    if unpriced:
        text.append(f"  + {unpriced} unpriced", "yellow")
    return text


class BulkPauseScreen(AnswerScreen):
    """ "Pause N workers?" with every one listed; dismisses with True only on Yes."""

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

    def __init__(self, rows: Sequence[BulkRow], why: str) -> None:
        super().__init__()
        self.rows = list(rows)
        self.dtos = [dto for dto, _state in self.rows]
        self.why = why

    @property
    def question(self) -> str:
        count = len(self.dtos)
        return f"Pause {plural(count, f'{self.why} worker')}?"

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Confirm pause"
            box.border_subtitle = "default: No"
            yield Static(Text(self.question), id="question")
            with VerticalScroll(can_focus=False):
                yield Static(bulk_body(self.rows), id="workers")
            with Horizontal():
                yield yes_button(f"Yes, pause {len(self.dtos)}")
                yield Button("No", id="no", variant="primary")
            hint = answer_hint()
            yield Static(Text(f"StopInstances per region · {hint}"), id="hint")
