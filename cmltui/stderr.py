"""The one way cmltui speaks to the person at the terminal outside the dashboard: one line on
stderr, "cmltui: …", used by every command and by the core while it waits for them."""

from __future__ import annotations

import sys

from cmltui.domain.sanitize import visible


def say(message: str) -> None:
    """One line on stderr; outside text in it is made visible and capped."""
    print(f"cmltui: {visible(message, 1000)}", file=sys.stderr, flush=True)
