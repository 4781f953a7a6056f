"""The `cmltui` command (README, "Commands"): global options before or after the subcommand."""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cmltui import __version__
from cmltui.cli.exits import EXIT_SIGINT, EXIT_SIGTERM, EXIT_USAGE, say
from cmltui.cli.extras import demo_extra_hint, missing_demo_modules, needs_simulator
from cmltui.gcpolicy import collect_rarely

if TYPE_CHECKING:
    from cmltui.config import Config

SCREENS = ("run", "demo")
"""Commands with a full-screen UI; every other (snapshot, watch, an action…) may log to stderr
when the log file is unusable."""


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(EXIT_SIGTERM)


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Global options; on subparsers their defaults are suppressed so they never overwrite."""
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("global options")
    group.add_argument("--config", metavar="FILE", default=default, help="config file (TOML)")
    group.add_argument("--profile", metavar="NAME", default=default, help="AWS profile")
    group.add_argument(
        "--region",
        metavar="R",
        action="append",
        default=default,
        help="AWS region (repeatable)",
    )
    group.add_argument(
        "--interval", metavar="SEC", type=float, default=default, help="collector interval"
    )
    group.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="block every AWS write (tags included) and auto-pause",
    )
    group.add_argument(
        "--log-level",
        metavar="LEVEL",
        default=default,
        help="DEBUG, INFO, WARNING or ERROR (logs go to a file)",
    )
    group.add_argument(
        "--version",
        action="version",
        version=f"cmltui {__version__}",
        default=argparse.SUPPRESS,
    )


def _add_fleet_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=_positive_int, default=12, help="simulated workers")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed")
    parser.add_argument(
        "--accounts",
        type=_account_count,
        default=1,
        help="simulated AWS accounts, 1 to 4 (workers alternate between them)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmltui",
        description="Terminal live monitor for Cisco Modeling Labs workers on AWS EC2.",
    )
    _add_global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="live TUI on AWS (the default)")
    _add_global_options(run, suppress=True)
    _add_ccm_url(run)

    demo = commands.add_parser("demo", help="live TUI on the embedded simulated fleet")
    _add_global_options(demo, suppress=True)
    _add_fleet_options(demo)
    _add_ccm_flag(demo, "run the dashboard against a simulated CML Cloud Manager")

    snapshot = _add_headless(commands, "snapshot", "collect once and print")
    snapshot.add_argument("--format", choices=("json", "table"), default="table")

    watch = _add_headless(
        commands, "watch", "snapshots and activity events as JSON lines, as they happen"
    )
    watch.add_argument(
        "--channel",
        action="append",
        choices=("snapshot", "activity", "status"),
        help="only these channels (repeatable; default: all three)",
    )
    watch.add_argument("--count", type=_positive_int, default=None, help="stop after N lines")

    exporter = _add_headless(
        commands, "exporter", "serve the fleet's figures to Prometheus (GET /metrics)"
    )
    exporter.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default="127.0.0.1:9719",
        help="where to serve /metrics (default 127.0.0.1:9719, this machine only)",
    )
    exporter.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --listen on an address other machines can reach",
    )

    simulate = commands.add_parser("simulate", help="run the simulators alone")
    _add_global_options(simulate, suppress=True)
    _add_fleet_options(simulate)
    simulate.add_argument("--host", default="127.0.0.1", help="address to listen on")
    _add_ccm_flag(simulate, "serve a simulated CML Cloud Manager (its API and event stream)")
    _add_action_commands(commands)
    return parser


def _add_action_commands(commands: Any) -> None:
    """The operator's actions as commands (README, "Actions from the command line")."""
    pause = _action_parser(commands, "pause", "pause (EC2 stop) workers, after one confirmation")
    pause.add_argument("workers", nargs="*", metavar="WORKER", help="name, instance id or id")
    pause.add_argument("--idle", action="store_true", help="every idle worker, as P takes them")
    resume = _action_parser(commands, "resume", "resume (EC2 start) workers")
    resume.add_argument("workers", nargs="+", metavar="WORKER")
    idle = _action_parser(commands, "idle-detection", "switch idle detection on or off")
    idle.add_argument("state", choices=("on", "off"))
    idle.add_argument("workers", nargs="+", metavar="WORKER")
    lab = _action_parser(commands, "lab", "stop, start or wipe labs on a worker")
    lab.add_argument("verb", choices=("stop", "start", "wipe"))
    lab.add_argument("worker", metavar="WORKER")
    lab.add_argument("labs", nargs="+", metavar="LAB", help="lab id or title")
    licence = _action_parser(
        commands, "licence", "register or deregister a worker's CML licence", ["license"]
    )
    licence.add_argument("verb", choices=("register", "deregister"))
    licence.add_argument("worker", metavar="WORKER")
    token = licence.add_mutually_exclusive_group()
    token.add_argument("--token-env", metavar="VAR", help="the registration token's variable")
    token.add_argument("--token-command", metavar="CMD", help="a command that prints it")
    licence.add_argument("--reregister", action="store_true", help="ask CML to register again")


def _action_parser(
    commands: Any, name: str, text: str, aliases: list[str] | None = None
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=text, aliases=aliases or [])
    _add_global_options(parser, suppress=True)
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask (for scripts)")
    parser.add_argument("--dry-run", action="store_true", help="say what it would send; send none")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    _add_ccm_url(parser)
    return parser


def _add_headless(commands: Any, name: str, text: str) -> argparse.ArgumentParser:
    """A command without a screen: AWS as configured, the simulated fleet, or a Cloud Manager."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=text)
    _add_global_options(parser, suppress=True)
    parser.add_argument("--demo", action="store_true", help="use the simulated fleet")
    _add_fleet_options(parser)
    _add_ccm_url(parser)
    return parser


def _add_ccm_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ccm",
        metavar="URL",
        dest="ccm_url",
        default=None,
        help="read the fleet from a CML Cloud Manager at URL (token: $CMLTUI_CCM_TOKEN)",
    )


def _add_ccm_flag(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--ccm", action="store_true", dest="ccm_sim", help=text)


def config_from_args(args: argparse.Namespace, env: dict[str, str] | None = None) -> Config:
    """Flags > environment > file > defaults."""
    from cmltui.config import load_config

    flags = {
        "aws.profile": args.profile,
        "aws.regions": args.region,
        "intervals.collector": args.interval,
        "read_only": True if args.read_only else None,
        "log_level": args.log_level,
        "source.kind": "ccm" if getattr(args, "ccm_url", None) else None,
        "source.url": getattr(args, "ccm_url", None),
    }
    return load_config(args.config, flags=flags, env=os.environ if env is None else env)


def main(argv: Sequence[str] | None = None) -> int:
    collect_rarely()  # before the imports below: start-up needs no full collection
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "run"
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)  # exit through the normal clean-up, as 143
    try:
        return _main(command, args)
    except KeyboardInterrupt:
        return EXIT_SIGINT


def _main(command: str, args: argparse.Namespace) -> int:
    from cmltui.config import ConfigError

    try:
        config = config_from_args(args)
    except ConfigError as exc:
        say(str(exc))
        return EXIT_USAGE
    if needs_simulator(command, args) and (missing := missing_demo_modules()):
        say(demo_extra_hint(command, missing))  # before anything is set up
        return EXIT_USAGE
    from cmltui.logging_setup import configure_logging

    # Commands without a full-screen UI may log to stderr when the log file is unusable.
    demo = command == "demo" or bool(getattr(args, "demo", False))
    setup = configure_logging(config.log_level, stderr_fallback=command not in SCREENS, demo=demo)
    problems = [setup.problem]
    if command in SCREENS:
        from cmltui.audit import AuditLog, default_audit_path

        problems.append(
            AuditLog(default_audit_path(demo=demo)).problem
        )  # the dashboard repeats it; actions are refused
    if any(problems):
        say("; ".join(p for p in problems if p))  # one line, before the screen is taken over
    from cmltui.cli import commands

    try:
        return commands.dispatch(command, args, config)
    except ConfigError as exc:
        say(str(exc))
        return EXIT_USAGE


def _account_count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 4:
        raise argparse.ArgumentTypeError("must be 1 to 4")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
