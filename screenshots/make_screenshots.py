"""Make the README pictures from the commands a user types: SVG always, PNG when it can.

    python screenshots/make_screenshots.py [--out DIR] [--only NAME,NAME]

Each picture runs the dashboard the way its command does (`cmltui.cli.commands.backend_for`
and `CmltuiApp`, in a headless terminal of the picture's size), in UTC:

- `cmltui demo`: the embedded simulated fleet (moto and the CML simulator on 127.0.0.1), on
  the wall clock, so times differ between runs; keys are pressed as a user would (`R` for the
  cycles behind the detail screen's plots);
- `cmltui run` with no AWS credentials (HOME and AWS settings pointed at nothing);
- `cmltui run` with a scripted config (`SCRIPTED_CONFIG`, written next to the pictures while
  they are made) against a simulated fleet in two regions: TLS verification off and a region
  with no known price, which the demo never shows; the README labels this picture.

The idle widget's states come from the snapshot tests' fixed fleet, one panel per state.
PNG: headless Chromium if found (the most faithful), else cairosvg, else `rsvg-convert`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from textual.app import App  # noqa: E402
from textual.pilot import Pilot  # noqa: E402

from cmltui.cli.commands import backend_for  # noqa: E402
from cmltui.cli.main import build_parser  # noqa: E402
from cmltui.clock import SystemClock  # noqa: E402
from cmltui.config import Config, load_config  # noqa: E402
from cmltui.tui.app import CmltuiApp  # noqa: E402

SCRIPTED_CONFIG = """\
# The scripted config behind the "TLS unverified, region unpriced" picture.
[aws]
endpoint_url = "{endpoint}"
regions = ["us-east-1", "eu-west-1"]   # the bundled price table knows us-east-1 only

[cml]
username = "admin"
password_env = "CMLTUI_CML_PASSWORD"
verify_tls = false                     # shown as [TLS-UNVERIFIED]
allowed_hosts = ["127.0.0.1"]
"""


@dataclass(frozen=True)
class Shot:
    name: str
    size: tuple[int, int]
    source: str = "demo"  # demo | no-credentials | scripted | idle-states
    select: str | None = None  # a worker, by name
    keys: tuple[str, ...] = ()
    refreshes: int = 0  # `R` presses (one cycle each) before the keys
    marks: tuple[str, ...] = ()  # workers marked (by name) before the keys


SHOTS = (
    Shot("main-160x48", (160, 48), select="cml-busy-01"),
    Shot("main-80x24", (80, 24)),
    Shot("main-120x40", (120, 40), select="cml-idle-03"),
    Shot("detail-160x48", (160, 48), select="cml-busy-01", refreshes=8, keys=("enter",)),
    Shot("detail-80x24", (80, 24), select="cml-busy-01", refreshes=8, keys=("enter",)),
    Shot(
        "bulk-pause",
        (120, 40),
        marks=("cml-idle-03", "cml-snooze-04", "cml-busy-01"),
        keys=("P",),
    ),
    Shot("pause-confirmation", (100, 30), select="cml-labs-02", keys=("p",)),
    Shot("help", (160, 48), keys=("question_mark",)),
    Shot("no-credentials", (120, 40), source="no-credentials"),
    Shot("tls-unverified-unpriced", (160, 48), source="scripted", select="cml-busy-07"),
    Shot("idle-states", (104, 36), source="idle-states"),
)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ as a user's shell would have it for the command (restored afterwards)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _base_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


async def _until(check: Callable[[], object], pilot: Pilot, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the dashboard did not get there in time")
        await pilot.pause(0.1)


def _settled(app: CmltuiApp) -> bool:
    """A snapshot is on screen and every running worker's idle state has been read."""
    snapshot = app.latest
    if snapshot is None or not snapshot.workers:
        return False
    return all(  # a worker whose CML does not answer stays unknown: its telemetry is unread
        dto.idle_state is None
        or dto.idle_state.value != "unknown"
        or dto.service_status.value != "available"
        for dto in snapshot.workers
    )


async def _cycle(app: CmltuiApp, pilot: Pilot) -> None:
    """`R`, and wait for the collection it starts."""
    before = app.latest.collected_at if app.latest else None
    await pilot.press("R")
    await _until(lambda: app.latest is not None and app.latest.collected_at != before, pilot)


def _by_name(app: CmltuiApp, name: str) -> str:
    assert app.latest is not None
    return next(dto.id for dto in app.latest.workers if dto.name == name)


async def _dashboard_shot(shot: Shot, out: Path, home: Path) -> Path:
    env = _base_env(home)
    fleet = None
    config_file: Path | None = None
    if shot.source == "scripted":
        from cmltui.sim.runner import SimulatedFleet

        fleet = SimulatedFleet(workers=12, seed=0, extra_regions=("eu-west-1",))
        await fleet.start()
        config_file = out / "scripted-config.toml"
        config_file.write_text(SCRIPTED_CONFIG.format(endpoint=fleet.aws_endpoint_url))
        env.update(
            {k.upper(): v for k, v in fleet.aws_credentials.items()},
            CMLTUI_CML_PASSWORD=fleet.cml_password,
        )
    command = "demo" if shot.source == "demo" else "run"
    try:
        with _environment(env):
            time.tzset()
            config = (
                load_config(str(config_file), flags={}, env=os.environ)
                if config_file
                else Config()
            )
            args = build_parser().parse_args([command])  # as the user types it
            backend = backend_for(args, config)
            app = CmltuiApp(backend, config, SystemClock())
            path = out / f"{shot.name}.svg"
            async with app.run_test(size=shot.size) as pilot:
                if shot.source == "no-credentials":
                    await _until(lambda: app.main_screen.has_class("-problem"), pilot)
                else:
                    await _until(lambda: _settled(app), pilot, timeout=90)
                for _ in range(shot.refreshes):
                    await _cycle(app, pilot)
                for name in shot.marks:
                    app.table.move_to(_by_name(app, name))
                    await pilot.press("v")
                if shot.select:
                    app.table.move_to(_by_name(app, shot.select))
                    await pilot.pause()
                if shot.keys:
                    await pilot.press(*shot.keys)
                # The screen a key opened reads its data; the log writes its check round.
                await pilot.pause(1.5)
                app.save_screenshot(filename=path.name, path=str(out))
            await backend.close()
    finally:
        time.tzset()
        if fleet is not None:
            await fleet.stop()
        if config_file is not None:
            config_file.unlink(missing_ok=True)
    return path


async def _idle_states_shot(shot: Shot, out: Path) -> Path:
    from cmltui.clock import ManualClock
    from tests.tui.idle_states_app import IdleStatesApp
    from tests.tui.tui_fleet import NOW, build_workers

    app: App[None] = IdleStatesApp(build_workers(), ManualClock(NOW))
    path = out / f"{shot.name}.svg"
    async with app.run_test(size=shot.size) as pilot:
        app.show()  # type: ignore[attr-defined]
        await pilot.pause()
        app.save_screenshot(filename=path.name, path=str(out))
    return path


def _png(svg: Path) -> Path | None:
    png = svg.with_suffix(".png")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        head = svg.read_text()[:4000]
        box = head.split('viewBox="0 0 ', 1)[1].split('"', 1)[0].split()
        width, height = (int(float(v)) + 1 for v in box)
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                svg.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        return png
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
    logging.getLogger().addHandler(logging.NullHandler())  # the dashboard's own logs: not here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    parser.add_argument("--only", default="", help="comma-separated picture names")
    args = parser.parse_args(argv)
    os.environ["TZ"] = "UTC"  # times on screen are local; the pictures are made in UTC
    time.tzset()
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = {name for name in args.only.split(",") if name}
    missing_png = False
    for shot in SHOTS:
        if wanted and shot.name not in wanted:
            continue
        with tempfile.TemporaryDirectory(prefix="cmltui-shot-") as home:
            if shot.source == "idle-states":
                svg = asyncio.run(_idle_states_shot(shot, args.out))
            else:
                svg = asyncio.run(_dashboard_shot(shot, args.out, Path(home)))
        png = _png(svg)
        missing_png |= png is None
        print(svg, png or "", flush=True)
    if missing_png:
        print(
            "No PNG converter: install chromium, or `pip install cairosvg` (with Debian's"
            " fonts-firacode), or rsvg-convert (librsvg2-bin).",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
