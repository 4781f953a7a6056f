"""The layers are checked at import time: the core never loads Textual, the dashboard never
loads AWS, HTTP or simulator code. Every module is found by walking the package, so a module
added later is checked without anyone listing it."""

from __future__ import annotations

import subprocess
import sys

import pytest

WALK = """
import importlib, pkgutil, sys
def walk(package):
    # Walking imports each package on the way (to look inside it): walk only what is checked.
    module = importlib.import_module(package)
    return [package] + sorted(
        info.name
        for info in pkgutil.walk_packages(module.__path__, package + ".")
        if info.name != "cmltui.__main__"  # runs the command when imported
    )
"""
CORE = "names = [n for n in walk('cmltui') if not n.startswith('cmltui.tui')]\n"
TUI = "names = walk('cmltui.tui')\n"
IMPORT_ALL = "for name in names:\n    importlib.import_module(name)\n"


def _run(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", WALK + code], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def _loaded(prefixes: tuple[str, ...]) -> str:
    return (
        f"print(*sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r}"
        " or any(m == p or m.startswith(p + '.') for p in "
        f"{prefixes!r})))"
    )


def test_the_walk_finds_every_layer():
    core = _run(CORE + "print(*names)")
    tui = _run(TUI + "print(*names)")
    assert len(core) > 60 and len(tui) > 15
    top = {n for n in core if n.count(".") == 1}
    assert {"cmltui.api", "cmltui.domain", "cmltui.sources", "cmltui.backends"} <= top
    assert {"cmltui.cli", "cmltui.sim", "cmltui.mapper", "cmltui.credentials"} <= top
    assert {"cmltui.backends.direct.service", "cmltui.backends.ccm.backend"} <= set(core)
    assert "cmltui.tui.app" in tui


def test_importing_every_core_module_never_loads_textual():
    assert _run(CORE + IMPORT_ALL + _loaded(("textual",))) == []


@pytest.mark.parametrize("banned", ["boto3", "botocore", "aiohttp", "moto", "cmltui.sim"])
def test_importing_every_dashboard_module_loads_no_aws_http_or_simulator_code(banned):
    assert _run(TUI + IMPORT_ALL + _loaded((banned,))) == []


def test_the_check_would_see_a_banned_import():
    code = "names = ['cmltui.sources.aws']\n" + IMPORT_ALL + _loaded(("boto3",))
    assert "boto3" in _run(code)
