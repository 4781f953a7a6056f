"""What each subcommand does once the configuration is loaded."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from functools import partial
from typing import TYPE_CHECKING

from cmltui.api.events import FleetSnapshot
from cmltui.cli.exits import EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM, say
from cmltui.config import Config

if TYPE_CHECKING:
    from cmltui.backends.ccm.backend import CcmBackend
    from cmltui.backends.direct.service import CoreService


log = logging.getLogger(__name__)

CLOSE_GRACE_SECONDS = 1.0


def dispatch(command: str, args: argparse.Namespace, config: Config) -> int:
    if getattr(args, "ccm_sim", False):
        from cmltui.backends.ccm import demo as ccm_commands

        return ccm_commands.dispatch(command, args, config)
    handlers = {"run": _run, "demo": _demo, "snapshot": _snapshot, "simulate": _simulate}
    return handlers[command](args, config)


def _snapshot(args: argparse.Namespace, config: Config) -> int:
    from cmltui.cli.table import render_table

    snapshot = asyncio.run(_collect_once(args, config))
    if (
        not snapshot.workers
        and snapshot.errors
        and len(snapshot.errors) >= len(config.aws.regions if not args.demo else [1])
    ):
        say("; ".join(snapshot.errors))  # every failing region, each named in its message
        return EXIT_FAILED
    if args.format == "json":
        sys.stdout.write(snapshot_json(snapshot) + "\n")
    else:
        sys.stdout.write(render_table(snapshot))
    return 0


def snapshot_json(snapshot: FleetSnapshot) -> str:
    """What `snapshot --format json` prints: strict JSON (never `NaN` or `Infinity`).

    Every number was made finite where it came in (prices inside their band, utilization
    clamped); `allow_nan=False` makes a slip fail loudly here instead of printing non-JSON.
    """
    return json.dumps(snapshot.to_dict(), indent=2, allow_nan=False)


def _service(args: argparse.Namespace, config: Config) -> CoreService | CcmBackend:
    """The one core service, on AWS or (for `demo` and `snapshot --demo`) a simulated fleet;
    or a CML Cloud Manager's stream when `[source] kind = "ccm"` (or `--ccm URL`)."""
    if (
        config.source.kind == "ccm"
        and args.command in ("run", None, "snapshot")
        and not getattr(args, "demo", False)
    ):
        from cmltui.backends.ccm.backend import CcmBackend

        return CcmBackend(config)
    if args.command == "demo" or getattr(args, "demo", False):
        from cmltui.backends.direct.demo import demo_service

        return demo_service(config, workers=args.workers, seed=args.seed)
    from cmltui.backends.direct.service import aws_service

    return aws_service(config)


async def _collect_once(args: argparse.Namespace, config: Config) -> FleetSnapshot:
    service = _service(args, config)
    try:
        return await service.snapshot_once()
    finally:
        await service.close()


def _run(args: argparse.Namespace, config: Config) -> int:
    return _run_tui(_service(args, config), config, args)


def _demo(args: argparse.Namespace, config: Config) -> int:
    return _run_tui(_service(args, config), config, args)


def _run_tui(service: CoreService | CcmBackend, config: Config, args: argparse.Namespace) -> int:
    """Run the dashboard and close the service on the same loop, however the app ends."""
    import os

    from cmltui.clock import SystemClock
    from cmltui.config import resolve_config_path
    from cmltui.tui.app import CmltuiApp

    settings_path, _named = resolve_config_path(args.config, os.environ)
    app = CmltuiApp(service, config, SystemClock(), settings_path=settings_path)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum, code in ((signal.SIGTERM, EXIT_SIGTERM), (signal.SIGINT, EXIT_SIGINT)):
            # The app's own exit restores the terminal; the code says which signal ended it.
            loop.add_signal_handler(signum, partial(app.exit, return_code=code))
        try:
            await app.run_async()
        finally:
            try:
                # Closing waits for nothing that may hang: in-flight AWS calls are abandoned
                # (daemon threads) and CML requests are cancelled with their session.
                async with asyncio.timeout(CLOSE_GRACE_SECONDS):
                    await service.close()
            except TimeoutError:
                log.warning("service close took over %g s; leaving anyway", CLOSE_GRACE_SECONDS)

    asyncio.run(main())
    return app.return_code or 0


def _simulate(args: argparse.Namespace, config: Config) -> int:
    from cmltui.sim.runner import SimulatedFleet, simulate_info_text

    live = sys.stderr.isatty()

    def progress(phase: str, done: int, total: int) -> None:
        """One line per phase; on a terminal it counts up in place."""
        if live:
            print(f"\rcmltui: {phase}: {done}/{total}\x1b[K", end="", file=sys.stderr)
        if done >= total:
            print(("" if live else f"cmltui: {phase}: {done}/{total}"), file=sys.stderr)
        sys.stderr.flush()

    async def serve() -> None:
        fleet = SimulatedFleet(workers=args.workers, seed=args.seed, host=args.host)
        await fleet.start(progress)
        try:
            print(simulate_info_text(fleet), flush=True)
            await asyncio.Event().wait()
        finally:
            await fleet.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        print("\ncmltui: simulator stopped", file=sys.stderr)
    return 0
