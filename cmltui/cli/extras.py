"""The `demo` extra: what the simulated fleet needs that the monitor does not (pyproject.toml).

A jump host that only monitors AWS installs cmltui without moto, Flask and the rest. The
commands that start a simulator (`demo`, `demo --ccm`, `snapshot --demo`, `simulate`) check
for them first and say in one line how to add them, instead of failing with a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import Final

DEMO_PACKAGES: Final = {
    "moto": "moto",
    "flask": "flask",
    "flask_cors": "flask-cors",
    "cryptography": "cryptography",
    "yaml": "pyyaml",
}
"""The `demo` extra's packages by import name, in pyproject.toml's order."""


def needs_simulator(command: str, args: argparse.Namespace) -> bool:
    return command in ("demo", "simulate") or bool(getattr(args, "demo", False))


def missing_demo_modules() -> list[str]:
    """The `demo` extra's packages whose module cannot be imported here."""
    return [
        package
        for module, package in DEMO_PACKAGES.items()
        if importlib.util.find_spec(module) is None
    ]


def demo_extra_hint(command: str, missing: list[str]) -> str:
    """One line: what is missing and the command that adds it, for this interpreter."""
    pip = f"{sys.executable} -m pip install"
    return (
        f"`{command}` needs the simulator's packages ({', '.join(missing)} missing): "
        f"add them with {pip} 'cmltui[demo]' (from a checkout: {pip} -e '.[demo]')"
    )
