"""The first frame comes before the heavy imports: building the dashboard and its backend
loads no boto3, aiohttp or moto (they load off the event loop once the frame is up)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("boto3", "botocore", "aiohttp", "moto", "flask")


def _loaded_after(code: str) -> list[str]:
    loaded = f"[m for m in {HEAVY!r} if m in sys.modules]"
    probe = f"{code}\nimport json, sys\nprint(json.dumps({loaded}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_building_the_run_and_demo_dashboards_loads_nothing_heavy():
    code = """
from cmltui.cli.commands import backend_for
from cmltui.cli.main import build_parser
from cmltui.clock import SystemClock
from cmltui.config import Config
from cmltui.tui.app import CmltuiApp
for command in ("run", "demo"):
    args = build_parser().parse_args([command])
    backend = backend_for(args, Config())
    CmltuiApp(backend, Config(), SystemClock(), start_backend=False)
"""
    assert _loaded_after(code) == []


def test_opening_the_core_loads_them_off_the_loop():
    """What the service imports when it opens: listed, so the list and the code agree."""
    from cmltui.backends.direct.service import CORE_MODULES

    loaded = _loaded_after(
        "import importlib\n"
        + "\n".join(f"importlib.import_module({name!r})" for name in CORE_MODULES)
    )
    assert {"boto3", "aiohttp"} <= set(loaded)
