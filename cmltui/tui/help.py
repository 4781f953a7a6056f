"""The help screen: the keys as configured, and what the non-colour cues mean."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from cmltui import keymap
from cmltui.config import KeysConfig, ThresholdsConfig
from cmltui.tui.safe import plain


def help_table(
    keys: KeysConfig,
    thresholds: ThresholdsConfig,
    files: Sequence[tuple[str, str]] = (),
) -> Table:
    """Every action of the one table, with the keys the config gave it, then the cues."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for spec in keymap.ACTIONS:
        # Key names come from the config: plain text, never markup.
        table.add_row(plain(keymap.pretty(getattr(keys, spec.id)), limit=40), spec.description)
    table.add_row("↑ ↓ PgUp PgDn", "move the cursor")
    table.add_row("ctrl+p", "command palette")
    table.add_row("", "")
    table.add_row(Text("Cues", style="bold"), "")
    table.add_row(
        "!  !!",
        f"warning ≥{thresholds.warning:g}%, critical ≥{thresholds.critical:g}% "
        f"(· careful ≥{thresholds.careful:g}%)",
    )
    table.add_row("error 4m old", "CML not answering: its data is 4 minutes old")
    table.add_row("stopping…", "an action is under way; a snapshot will confirm it")
    table.add_row("(unconfirmed)", "changed here; waiting for AWS to agree")
    table.add_row("IDLE 1h05m", "idle past the timeout")
    table.add_row("*", "a marked worker (P pauses the marked ones)")
    if files:
        table.add_row("", "")
        table.add_row(Text("Files", style="bold"), "")
        for what, where in files:
            table.add_row(what, Text(where))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", show=True),
    ]
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
            scroll.border_subtitle = "esc to close"
            yield Static(help_table(self._keys, self._thresholds, self._files))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
