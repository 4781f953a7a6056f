"""Make the README pictures of the header on a CML Cloud Manager: connected, and reconnecting.

    python screenshots/make_ccm_screenshots.py [--out DIR]

Same fixed fleet, clock and time zone as `make_screenshots.py`; the source is named as a
Cloud Manager source names it, and its state is set as the stream client sets it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from make_screenshots import _png  # noqa: E402

from cmltui.api.backend import BackendContext, SourceStatus  # noqa: E402
from cmltui.clock import ManualClock  # noqa: E402
from cmltui.config import Config  # noqa: E402
from cmltui.tui.app import CmltuiApp  # noqa: E402
from tests.tui.tui_backend import ScriptedBackend  # noqa: E402
from tests.tui.tui_fleet import NOW, build_workers, snapshot  # noqa: E402

LABEL = "ccm https://ccm.example.org"
CONTEXT = BackendContext(regions=("us-east-1",), source=LABEL)
SHOTS = {
    "ccm-connected": SourceStatus(LABEL, "ok", "connected"),
    "ccm-reconnecting": SourceStatus(
        LABEL, "reconnecting", "stream dropped", NOW + timedelta(seconds=4)
    ),
}


async def _svg(name: str, status: SourceStatus, out: Path) -> Path:
    clock = ManualClock(NOW)
    workers = build_workers()
    config = Config()
    backend = ScriptedBackend(lambda: snapshot(workers, clock.now(), config), clock, CONTEXT)
    app = CmltuiApp(backend, config, clock, start_backend=False)
    async with app.run_test(size=(120, 18)) as pilot:
        await backend.collect()
        await pilot.pause()
        backend.status(status)
        await pilot.pause()
        await pilot.pause(0.05)
        app.save_screenshot(filename=f"{name}.svg", path=str(out))
    return out / f"{name}.svg"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    args = parser.parse_args(argv)
    os.environ["TZ"] = "UTC"
    time.tzset()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, status in SHOTS.items():
        svg = asyncio.run(_svg(name, status, args.out))
        print(svg, _png(svg) or "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
