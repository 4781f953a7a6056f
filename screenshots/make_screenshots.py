"""Make the README pictures of the dashboard: SVG always, PNG when a converter is available.

    python screenshots/make_screenshots.py [--out DIR]

The pictures come from the same fixed fleet as the snapshot tests (`tests/tui/tui_fleet.py`:
real CMLWorker objects mapped by the real mapper), at a fixed clock and in UTC, so the same
command gives the same pictures. PNG: cairosvg if importable (install Debian's
`fonts-firacode` for the intended monospace font), else `rsvg-convert`, else SVG only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from textual.app import App  # noqa: E402
from textual.pilot import Pilot  # noqa: E402

from cmltui.api.backend import BackendContext  # noqa: E402
from cmltui.api.events import FleetSnapshot  # noqa: E402
from cmltui.clock import ManualClock  # noqa: E402
from cmltui.config import Config  # noqa: E402
from cmltui.tui.app import CmltuiApp  # noqa: E402
from tests.tui.idle_states_app import IdleStatesApp  # noqa: E402
from tests.tui.tui_backend import ScriptedBackend  # noqa: E402
from tests.tui.tui_fleet import NOW, build_workers, by_name, snapshot  # noqa: E402

DEMO = BackendContext(
    profile="lab-admin", regions=("us-east-1", "eu-west-1"), tls_verified=False, demo=True
)


@dataclass(frozen=True)
class Shot:
    name: str
    size: tuple[int, int]
    select: str | None = None  # a worker of the fixed fleet, by role
    keys: tuple[str, ...] = ()
    idle_states: bool = False
    cycles: int = 1  # collections before the picture (the detail plot shows their history)
    marks: tuple[str, ...] = ()  # workers marked (by role) before the keys
    no_credentials: bool = False  # every region fails: the error panel


SHOTS = (
    Shot("main-160x48", (160, 48)),
    Shot("main-80x24", (80, 24)),
    Shot("main-120x40", (120, 40), select="idle"),
    Shot("detail-160x48", (160, 48), select="busy", keys=("enter",), cycles=8),
    Shot("detail-80x24", (80, 24), select="busy", keys=("enter",), cycles=8),
    Shot("bulk-pause", (120, 40), marks=("idle", "snooze", "busy"), keys=("P",)),
    Shot("no-credentials", (120, 40), no_credentials=True),
    Shot("help", (80, 24), keys=("question_mark",)),
    Shot("pause-confirmation", (100, 30), select="labs", keys=("p",)),
    Shot("idle-states", (104, 36), idle_states=True),
)


def _make_app(shot: Shot) -> tuple[App[None], Callable[[Pilot], Awaitable[None]]]:
    clock = ManualClock(NOW)
    workers = build_workers()
    if shot.idle_states:
        states = IdleStatesApp(workers, clock)

        async def show_states(pilot: Pilot) -> None:
            states.show()
            await pilot.pause()

        return states, show_states
    config = Config()
    errors = ("us-east-1: no AWS credentials found", "eu-west-1: no AWS credentials found")

    def produce() -> FleetSnapshot:
        if shot.no_credentials:
            return FleetSnapshot(collected_at=clock.now(), workers=(), errors=errors)
        return snapshot(workers, clock.now(), config)

    backend = ScriptedBackend(produce, clock, DEMO)
    app = CmltuiApp(backend, config, clock, start_backend=False)

    async def prepare(pilot: Pilot) -> None:
        busy = by_name(workers, "busy").cml.system_info
        for step in range(shot.cycles):
            if step:
                clock.advance(10)
                busy["cpu_percent"] = 40.0 + (7 * step) % 50
            await app.backend.collect()
            await pilot.pause()
        for role in shot.marks:
            app.table.move_to(by_name(workers, role).instance_id)
            await pilot.press("v")
        if shot.select:
            app.table.move_to(by_name(workers, shot.select).instance_id)
            await pilot.pause()
        if shot.keys:
            await pilot.press(*shot.keys)
        await pilot.pause()
        await pilot.pause(0.05)  # a layout pass after the last key or selection

    return app, prepare


async def _svg(shot: Shot, out: Path) -> Path:
    app, prepare = _make_app(shot)
    async with app.run_test(size=shot.size) as pilot:
        await prepare(pilot)
        path = out / f"{shot.name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
    return path


def _png(svg: Path) -> Path | None:
    png = svg.with_suffix(".png")
    try:
        import cairosvg
    except ImportError:
        cairosvg = None
    if cairosvg is not None:
        cairosvg.svg2png(url=str(svg), write_to=str(png))
        return png
    if shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True)
        return png
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    args = parser.parse_args(argv)
    os.environ["TZ"] = "UTC"  # times on screen are local; the pictures are made in UTC
    time.tzset()
    args.out.mkdir(parents=True, exist_ok=True)
    missing_png = False
    for shot in SHOTS:
        svg = asyncio.run(_svg(shot, args.out))
        png = _png(svg)
        missing_png |= png is None
        print(svg, png or "")
    if missing_png:
        print(
            "No PNG converter: `pip install cairosvg` (and `apt-get install fonts-firacode`),"
            " or install rsvg-convert (librsvg2-bin).",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
