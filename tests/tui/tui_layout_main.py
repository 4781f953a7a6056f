"""Run the dashboard on the fixture fleet renamed with the layout corpus, in a real terminal.

argv[1] picks the names: "width" (the width tricks) or "layout" (bidi, zero-width, wide,
line breaks, surrogates, 5,000 characters). Used by the tmux alignment test.
"""

from __future__ import annotations

import sys

from cmltui.clock import ManualClock
from cmltui.config import Config
from cmltui.tui.app import CmltuiApp
from tests.hostile_corpus import LAYOUT, WIDTH_TRICKS
from tests.tui.tui_backend import ScriptedBackend
from tests.tui.tui_fleet import NOW, build_workers, snapshot

NAMES = {"width": WIDTH_TRICKS, "layout": LAYOUT}


def main() -> None:
    clock = ManualClock(NOW)
    workers = build_workers()
    names = NAMES[sys.argv[1]]
    for index, worker in enumerate(workers):
        name = names[index % len(names)]
        worker.name = worker.tags["Name"] = name if index < len(names) else f"{name}-{index}"
    config = Config()
    backend = ScriptedBackend(
        lambda: snapshot(workers, clock.now(), config), clock, autocollect=True
    )
    CmltuiApp(backend, config, clock).run()


if __name__ == "__main__":
    main()
