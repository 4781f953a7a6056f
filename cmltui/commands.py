"""What each subcommand does once the configuration is loaded."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

from cmltui.api.events import FleetSnapshot
from cmltui.config import Config

if TYPE_CHECKING:
    from cmltui.backend import CoreBackend
    from cmltui.demo import DemoBackend
    from cmltui.runtime import Core


def dispatch(command: str, args: argparse.Namespace, config: Config) -> int:
    handlers = {"run": _run, "demo": _demo, "snapshot": _snapshot, "simulate": _simulate}
    return handlers[command](args, config)


def _snapshot(args: argparse.Namespace, config: Config) -> int:
    from cmltui.snapshot_table import render_table

    snapshot = asyncio.run(_collect_once(args, config))
    if (
        not snapshot.workers
        and snapshot.errors
        and len(snapshot.errors) >= len(config.aws.regions if not args.demo else [1])
    ):
        print(f"cmltui: {snapshot.errors[0]}", file=sys.stderr)
        return 1
    if args.format == "json":
        json.dump(snapshot.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_table(snapshot))
    return 0


async def _collect_once(args: argparse.Namespace, config: Config) -> FleetSnapshot:
    from cmltui.runtime import Endpoints, build_core

    if args.demo:
        from cmltui.demo import demo_core

        async with demo_core(config, workers=args.workers, seed=args.seed) as (core, _fleet):
            return await _one_cycle(core)
    core = build_core(config, Endpoints())
    try:
        return await _one_cycle(core)
    finally:
        await core.close()


async def _one_cycle(core: Core) -> FleetSnapshot:
    """Collect, read telemetry once (so idle figures are real), then collect the snapshot.

    The first pass finds the workers and their CML endpoints; the idle checker needs both.
    """
    first = await core.collector.collect()
    if not first.workers:
        return first
    await core.idle_checker.check_due()
    return await core.collector.collect()


def _run(args: argparse.Namespace, config: Config) -> int:
    from cmltui.backend import CoreBackend
    from cmltui.runtime import Endpoints, build_core

    return _run_tui(CoreBackend(build_core(config, Endpoints())), config, args)


def _demo(args: argparse.Namespace, config: Config) -> int:
    from cmltui.demo import DemoBackend

    return _run_tui(DemoBackend(config, workers=args.workers, seed=args.seed), config, args)


def _run_tui(backend: CoreBackend | DemoBackend, config: Config, args: argparse.Namespace) -> int:
    """Run the dashboard and close the backend on the same loop, however the app ends."""
    import os

    from cmltui.clock import SystemClock
    from cmltui.config import resolve_config_path
    from cmltui.tui.app import CmltuiApp

    settings_path, _named = resolve_config_path(args.config, os.environ)
    app = CmltuiApp(backend, config, SystemClock(), settings_path=settings_path)

    async def main() -> None:
        try:
            await app.run_async()
        finally:
            await backend.close()

    asyncio.run(main())
    return app.return_code or 0


def _simulate(args: argparse.Namespace, config: Config) -> int:
    from cmltui.sim.runner import SimulatedFleet, simulate_info_text

    async def serve() -> None:
        fleet = SimulatedFleet(workers=args.workers, seed=args.seed, host=args.host)
        await fleet.start()
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
