"""The help screen: the keys as configured, and what the non-colour cues mean."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from cmltui import keymap
from cmltui.config import KeysConfig, ThresholdsConfig
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.idle import IdleState, idle_words
from cmltui.keymap import Scope
from cmltui.tui import hints
from cmltui.tui.fleet_view import IN_FLIGHT_WORDS
from cmltui.tui.hints import KeyHints, bound_keys, closing_bindings, own_hint
from cmltui.tui.safe import plain
from cmltui.tui.table import WorkerTable

CUE_EXAMPLES: dict[IdleState, str] = {
    IdleState.IDLE: f"{idle_words(IdleState.IDLE).short} 3h",
    IdleState.ACTIVE: "12m",
    IdleState.UNKNOWN: idle_words(IdleState.UNKNOWN).short,
    IdleState.OFF: idle_words(IdleState.OFF).short,
    IdleState.SNOOZE: idle_words(IdleState.SNOOZE).short,
}
"""How the table's IDLE cell shows each state (an active worker: how long it has been quiet)."""


def help_table(
    keys: KeysConfig,
    thresholds: ThresholdsConfig,
    files: Sequence[tuple[str, str]] = (),
) -> Table:
    """Every action of the one table, with the keys the config gave it, then the cues."""
    key_hints = KeyHints(keys.model_dump())
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for spec in keymap.ACTIONS:
        # Key names come from the config: plain text, never markup.
        table.add_row(plain(keymap.pretty(key_hints.keys(spec.id)), limit=40), spec.description)
    for actions, what in (
        (("cursor(-1)", "cursor(1)"), "move the cursor"),
        (("page(-1)", "page(1)"), "a page up or down"),
    ):
        keys_of = [bound_keys(WorkerTable.BINDINGS, action) for action in actions]
        # "↑ ↓ k j": each action's first key, then each one's second
        table.add_row(" ".join(k for rank in zip(*keys_of, strict=False) for k in rank), what)
    table.add_row(keymap.hint_key(App.COMMAND_PALETTE_BINDING), "command palette")
    table.add_row("", "")
    table.add_row(Text("Cues", style="bold"), "")
    table.add_row(
        "!  !!",
        f"warning ≥{thresholds.warning:g}%, critical ≥{thresholds.critical:g}% "
        f"(· careful ≥{thresholds.careful:g}%)",
    )
    table.add_row("error 4m old", "CML not answering: its data is 4 minutes old")
    table.add_row(
        IN_FLIGHT_WORDS[WorkerStatus.STOPPING], "an action is under way; a snapshot will confirm it"
    )
    table.add_row("(unconfirmed)", "changed here; waiting for AWS to agree")
    for state, example in CUE_EXAMPLES.items():
        quiet = " (quiet for 12 minutes)" if state is IdleState.ACTIVE else ""
        table.add_row(example, idle_words(state).long + quiet)
    table.add_row("*", f"a marked worker ({key_hints(hints.PAUSES_MARKED)})")
    if files:
        table.add_row("", "")
        table.add_row(Text("Files", style="bold"), "")
        for what, where in files:
            table.add_row(what, Text(where))
    return table


class HelpScreen(ModalScreen[None]):
    SCOPE: ClassVar = Scope.INFO
    BINDINGS: ClassVar = closing_bindings("dismiss", "help")
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    HelpScreen Static { width: 100%; height: auto; }
    """

    def __init__(
        self,
        keys: KeysConfig,
        thresholds: ThresholdsConfig,
        files: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self._keys = keys
        self._thresholds = thresholds
        self._files = files

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "cmltui help"
            key_hints = KeyHints(self._keys.model_dump())
            close = own_hint(self.BINDINGS, "dismiss", "{key} to close", key_hints)
            scroll.border_subtitle = Text(close)
            yield Static(help_table(self._keys, self._thresholds, self._files))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
