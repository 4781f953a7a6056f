"""The help screen: the keys as configured, and what the non-colour cues mean."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from cmltui import keymap
from cmltui.config import KeysConfig, ThresholdsConfig
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.idle import IdleState, idle_words
from cmltui.keymap import Scope
from cmltui.tui import hints
from cmltui.tui.fleet_view import IN_FLIGHT_WORDS
from cmltui.tui.fmt import home_relative
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


def keys_table(keys: KeysConfig) -> Table:
    """Every action of the one table, with the keys the config gave it."""
    key_hints = KeyHints(keys.model_dump())
    table = _grid()
    for spec in keymap.ACTIONS:
        # Key names come from the config: plain text, never markup.
        keys_shown = ", ".join(keymap.key_names(key_hints.keys(spec.id)))
        table.add_row(plain(keys_shown, limit=40), spec.description)
    for actions, what in (
        (("cursor(-1)", "cursor(1)"), "move the cursor"),
        (("page(-1)", "page(1)"), "a page up or down"),
        (("cursor_to(0)", "cursor_to(-1)"), "the first or the last worker"),
    ):
        keys_of = [bound_keys(WorkerTable.BINDINGS, action) for action in actions]
        # "↑ ↓ k j": each action's first key, then each one's second
        table.add_row(" ".join(k for rank in zip(*keys_of, strict=False) for k in rank), what)
    table.add_row(keymap.hint_key(App.COMMAND_PALETTE_BINDING), "command palette")
    return table


def cues_table(keys: KeysConfig, thresholds: ThresholdsConfig) -> Table:
    """What the non-colour cues on screen mean."""
    key_hints = KeyHints(keys.model_dump())
    table = _grid()
    table.add_row(Text("Cues", style="bold"), "")
    table.add_row(
        "!  !!",
        f"warning ≥{thresholds.warning:g}%, critical ≥{thresholds.critical:g}% "
        f"(· careful ≥{thresholds.careful:g}%)",
    )
    table.add_row("error 4m", "CML not answering: its figures are 4 minutes old")
    table.add_row(
        IN_FLIGHT_WORDS[WorkerStatus.STOPPING], "an action is under way; a snapshot will confirm it"
    )
    table.add_row("(unconfirmed)", "changed here; waiting for AWS to agree")
    for state, example in CUE_EXAMPLES.items():
        quiet = " (quiet for 12 minutes)" if state is IdleState.ACTIVE else ""
        table.add_row(example, idle_words(state).long + quiet)
    # The hint names configured keys: plain text, never markup.
    table.add_row("*", Text(f"a marked worker ({key_hints(hints.PAUSES_MARKED)})"))
    return table


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    return table


def files_text(files: Sequence[tuple[str, str]]) -> Text:
    """Where this run writes, each path whole on a line of its own (under the home directory
    as `~/…`), wrapped rather than cut: it is what the section is for."""
    text = Text()
    text.append("\nFiles\n", "bold")
    for what, where in files:
        text.append(f"{what}\n")
        text.append(f"  {plain(home_relative(where)).plain}\n", "cyan")
    text.rstrip()
    return text


class HelpScreen(ModalScreen[None]):
    SCOPE: ClassVar = Scope.INFO
    BINDINGS: ClassVar = closing_bindings("dismiss", "help")
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    HelpScreen #help-columns { height: auto; layout: vertical; }
    HelpScreen #help-side { height: auto; }
    HelpScreen Static { width: 100%; height: auto; }
    HelpScreen #help-cues { margin-top: 1; }
    HelpScreen.-wide > VerticalScroll { width: 100%; max-width: 170; }
    HelpScreen.-wide #help-columns { layout: horizontal; }
    HelpScreen.-wide #help-keys { width: 1fr; }
    HelpScreen.-wide #help-side { width: 1fr; padding-left: 2; }
    HelpScreen.-wide #help-cues { margin-top: 0; }
    """
    WIDE: ClassVar[int] = 150
    """From this width the keys, and the cues and files, sit side by side: all on one screen."""

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
            with Container(id="help-columns"):
                yield Static(keys_table(self._keys), id="help-keys")
                with Vertical(id="help-side"):
                    yield Static(cues_table(self._keys, self._thresholds), id="help-cues")
                    if self._files:
                        yield Static(files_text(self._files), id="help-files")

    def on_resize(self) -> None:
        self.set_class(self.size.width >= self.WIDE, "-wide")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
