"""What each subcommand does once the configuration is loaded."""

from __future__ import annotations

import argparse
import sys

from cmltui.config import Config


def dispatch(command: str, args: argparse.Namespace, config: Config) -> int:
    handlers = {"run": _not_yet, "demo": _not_yet, "snapshot": _not_yet, "simulate": _not_yet}
    return handlers[command](args, config)


def _not_yet(args: argparse.Namespace, config: Config) -> int:
    print(f"cmltui: '{args.command or 'run'}' is not built yet", file=sys.stderr)
    return 1
