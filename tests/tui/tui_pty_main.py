"""Run the dashboard on the fixture fleet in a real terminal; used by the SIGHUP test.

Writes how the app ended to the file named in argv[1], so the test can tell a clean exit (the
app's own shutdown ran) from being killed by the signal.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cmltui.clock import ManualClock
from cmltui.config import Config
from cmltui.tui.app import CmltuiApp
from tests.tui.tui_backend import ScriptedBackend
from tests.tui.tui_fleet import NOW, build_workers, snapshot


def main() -> None:
    marker = Path(sys.argv[1])
    clock = ManualClock(NOW)
    workers = build_workers()
    config = Config()
    backend = ScriptedBackend(
        lambda: snapshot(workers, clock.now(), config), clock, autocollect=True
    )
    app = CmltuiApp(backend, config, clock)
    app.run()
    marker.write_text(f"exited {app.return_code}")


if __name__ == "__main__":
    main()
