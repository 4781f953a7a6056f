"""Command-palette entries for every dashboard action."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from cmltui.tui.app import CmltuiApp

COMMANDS: tuple[tuple[str, str, str], ...] = (
    # (title, help, app action)
    ("Refresh now", "Run a collection cycle now", "refresh"),
    ("Freeze / unfreeze view", "Hold the screen still; collection goes on", "freeze"),
    ("Filter workers", "Type to filter the worker table", "filter"),
    ("Sort: next column", "Cycle the worker table's sort column", "sort"),
    ("Interval: faster", "Halve the refresh interval (min 2 s)", "faster"),
    ("Interval: slower", "Double the refresh interval (max 600 s)", "slower"),
    ("Toggle idle detection", "For the selected worker (writes its EC2 tag)", "toggle_idle"),
    ("Pause worker", "Stop the selected worker's instance (asks first)", "pause"),
    ("Resume worker", "Start the selected worker's instance (asks first)", "resume"),
    ("Cost breakdown", "Burn, idle burn and savings by owner, type and region", "cost"),
    ("Help", "Keys and cues", "help"),
)


class CmltuiCommands(Provider):
    """The dashboard's actions, by name."""

    def _run(self, action: str) -> None:
        app: CmltuiApp = self.app  # type: ignore[assignment]
        app.call_next(app.run_action, action)

    async def discover(self) -> Hits:
        for title, help_text, action in COMMANDS:
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self._run, action), help=help_text
                )
