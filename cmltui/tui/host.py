"""The dashboard as its screens and helpers see it: one narrow protocol instead of the app.

The detail screen, the copy menu and the operator's actions need the fleet (the view-model),
the backend, the configured keys and a few services of the app (toasts, the activity log, a
worker thread, a screen on top). They ask for them through `Host`, which `CmltuiApp` is, so
none of them imports the app, and the app imports each of them without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast

from textual.dom import DOMNode
from textual.notifications import SeverityLevel

from cmltui.api.backend import Backend
from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.tui.bus import Bus
from cmltui.tui.fleet_view import FleetView
from cmltui.tui.hints import KeyHints
from cmltui.tui.history import FleetHistory


class Host(Protocol):
    """What the dashboard's screens and helpers may use of it."""

    backend: Backend
    config: Config
    clock: Clock
    bus: Bus
    view: FleetView
    """The fleet as shown: every lookup of a worker goes here (by id, a dict)."""
    history: FleetHistory
    hints: KeyHints
    """Hint words with the keys as configured."""
    audit_path: Path
    """Where this run's audit log is (the demo has its own)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None: ...

    def note(self, line: str, *, style: str = "") -> None:
        """One line in the activity log."""
        ...

    def open_url(self, url: str, *, new_tab: bool = True) -> None: ...

    def copy_to_clipboard(self, text: str) -> None: ...

    def push_screen(self, screen: Any, callback: Callable[[Any], None] | None = None) -> Any: ...

    def run_worker(
        self, work: Any, *, group: str = "default", exit_on_error: bool = True
    ) -> Any: ...

    def clear_marks(self) -> None:
        """Forget which workers the operator marked (after a bulk pause went out)."""
        ...


def host_of(node: DOMNode) -> Host:
    """The dashboard a screen or widget runs in."""
    return cast(Host, node.app)
