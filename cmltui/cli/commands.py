"""What each subcommand does once the configuration is loaded."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from functools import partial

from cmltui.api.backend import Backend
from cmltui.api.events import FleetSnapshot
from cmltui.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, say
from cmltui.cli.jsonout import strict_json
from cmltui.cli.lifecycle import SIGNAL_CODES, Ending, close_in_time
from cmltui.config import Config

log = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace, Config], int]


def dispatch(command: str, args: argparse.Namespace, config: Config) -> int:
    return COMMANDS[command](args, config)


def backend_for(args: argparse.Namespace, config: Config) -> Backend:
    """The one backend a command reads from, whichever it is:

    - a simulated CML Cloud Manager (`demo --ccm`), started by the backend itself;
    - the simulated fleet (`demo`, `snapshot --demo`), started by the core service itself;
    - a CML Cloud Manager (`[source] kind = "ccm"` or `--ccm URL`, for `run` and `snapshot`);
    - AWS as configured.
    """
    demo = args.command == "demo" or bool(getattr(args, "demo", False))
    if demo and getattr(args, "ccm_sim", False):
        from cmltui.backends.ccm.demo import ccm_demo_backend

        return ccm_demo_backend(config, workers=args.workers, seed=args.seed)
    if demo:
        from cmltui.backends.direct.demo import demo_service

        return demo_service(config, workers=args.workers, seed=args.seed, accounts=args.accounts)
    if config.source.kind == "ccm":
        from cmltui.backends.ccm.backend import CcmBackend

        return CcmBackend(config)
    from cmltui.backends.direct.service import aws_service

    return aws_service(config)


def _snapshot(args: argparse.Namespace, config: Config) -> int:
    from cmltui.cli.table import render_table

    backend = backend_for(args, config)

    async def collect_once() -> FleetSnapshot:
        try:
            return await backend.snapshot_once()
        finally:
            await backend.close()

    snapshot = asyncio.run(collect_once())
    listings = backend.context.listing_count
    if not snapshot.workers and snapshot.errors and len(snapshot.errors) >= listings:
        say("; ".join(snapshot.errors))  # every failing region, each named in its message
        return EXIT_FAILED
    if args.format == "json":
        sys.stdout.write(snapshot_json(snapshot) + "\n")
    else:
        sys.stdout.write(render_table(snapshot))
    return EXIT_OK


def snapshot_json(snapshot: FleetSnapshot) -> str:
    """What `snapshot --format json` prints: strict JSON (never `NaN` or `Infinity`)."""
    return strict_json(snapshot.to_dict(), indent=2)


def _dashboard(args: argparse.Namespace, config: Config) -> int:
    """`run` and `demo`: the live dashboard on whichever backend the arguments name."""
    return _run_tui(backend_for(args, config), config, args)


def _run_tui(backend: Backend, config: Config, args: argparse.Namespace) -> int:
    """Run the dashboard and close the backend on the same loop, however the app ends."""
    import os

    from cmltui.clock import SystemClock
    from cmltui.config import resolve_config_path
    from cmltui.tui.app import CmltuiApp

    settings_path, _named = resolve_config_path(args.config, os.environ)
    app = CmltuiApp(backend, config, SystemClock(), settings_path=settings_path)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum, code in SIGNAL_CODES:
            # The app's own exit restores the terminal; the code says which signal ended it.
            loop.add_signal_handler(signum, partial(app.exit, return_code=code))
        try:
            await app.run_async()
        finally:
            await close_in_time(backend)

    asyncio.run(main())
    return app.return_code or EXIT_OK


def _simulate(args: argparse.Namespace, config: Config) -> int:
    """The simulators alone (the fleet, or with `--ccm` a Cloud Manager), until ctrl+c."""
    live = sys.stderr.isatty()

    def progress(phase: str, done: int, total: int) -> None:
        """One line per phase; on a terminal it counts up in place."""
        if live:
            print(f"\rcmltui: {phase}: {done}/{total}\x1b[K", end="", file=sys.stderr)
        if done >= total:
            print(("" if live else f"cmltui: {phase}: {done}/{total}"), file=sys.stderr)
        sys.stderr.flush()

    async def start() -> tuple[str, Callable[[], Awaitable[None]]]:
        """What to print, and how to stop it."""
        if args.ccm_sim:
            from cmltui.backends.ccm.demo import SIM_TOKEN_ENV
            from cmltui.sim.ccm_server import CcmSimulator

            sim = CcmSimulator(workers=args.workers, seed=args.seed, host=args.host)
            await sim.start()
            return sim.info_text(SIM_TOKEN_ENV), sim.stop
        from cmltui.sim.runner import SimulatedFleet, simulate_info_text

        fleet = SimulatedFleet(
            workers=args.workers, seed=args.seed, host=args.host, accounts=args.accounts
        )
        await fleet.start(progress)
        return simulate_info_text(fleet), fleet.stop

    async def serve() -> None:
        info, stop = await start()
        try:
            print(info, flush=True)
            await asyncio.Event().wait()
        finally:
            await stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        print("\ncmltui: simulator stopped", file=sys.stderr)
    return EXIT_OK


def _watch(args: argparse.Namespace, config: Config) -> int:
    """Both channels (and the source's state) as JSON lines until ctrl+c, `--count` or the
    reader leaves."""
    from cmltui.cli.watch import CHANNELS, watch

    backend = backend_for(args, config)
    channels = tuple(args.channel or CHANNELS)
    return asyncio.run(watch(backend, sys.stdout, channels=channels, count=args.count))


def _exporter(args: argparse.Namespace, config: Config) -> int:
    """The fleet's figures on a Prometheus /metrics endpoint until ctrl+c or SIGTERM."""
    import importlib.util

    if importlib.util.find_spec("prometheus_client") is None:
        say("the exporter needs prometheus-client: pip install 'cmltui[exporter]'")
        return EXIT_USAGE
    from cmltui.exporter.server import Exporter, parse_listen

    try:
        listen = parse_listen(args.listen)
    except ValueError as exc:
        say(str(exc))
        return EXIT_USAGE
    if not listen.loopback and not args.allow_remote:
        say(
            f"--listen {args.listen} would serve every worker's name, account and cost beyond "
            "this machine; add --allow-remote to mean it"
        )
        return EXIT_USAGE
    exporter = Exporter(backend_for(args, config), listen)

    async def serve() -> int:
        ending = Ending()
        with ending.on_signals():
            try:
                await exporter.start()
            except OSError as exc:
                say(f"cannot listen on {args.listen}: {exc.strerror or exc}")
                await close_in_time(exporter.backend)
                return EXIT_FAILED
            say(f"serving {listen.url}")
            try:
                return await ending.wait()
            finally:
                await exporter.close()
                await close_in_time(exporter.backend)

    return asyncio.run(serve())


def _act(args: argparse.Namespace, config: Config) -> int:
    """`pause`, `resume`, `idle-detection`, `lab`, `licence`: an action, from a command."""
    from cmltui.cli.act import run_action

    return run_action(args, config, backend_for)


ACTION_COMMANDS = ("pause", "resume", "idle-detection", "lab", "licence", "license")
COMMANDS: dict[str, Command] = {
    "run": _dashboard,
    "demo": _dashboard,
    "snapshot": _snapshot,
    "simulate": _simulate,
    **dict.fromkeys(ACTION_COMMANDS, _act),
    "watch": _watch,
    "exporter": _exporter,
}
"""The one command table: each subcommand and what runs it."""
