"""Without the `demo` extra, the commands that start a simulator say in one line how to add it
(exit 2, no traceback); the monitor's own commands do not need it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cmltui.cli import extras
from cmltui.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_extra_holds_what_only_the_simulator_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = " ".join(project["dependencies"]).lower()
    demo = " ".join(project["optional-dependencies"]["demo"]).lower()
    for package in ("moto", "flask", "flask-cors", "cryptography", "pyyaml"):
        assert package in demo and package not in required
    assert "cmltui[demo]" in project["optional-dependencies"]["test"]
    # Nothing outside the simulator imports them at module level.
    names = ("moto", "flask", "flask_cors", "cryptography", "yaml")
    for path in (ROOT / "cmltui").rglob("*.py"):
        if "sim" in path.relative_to(ROOT / "cmltui").parts[:1]:
            continue
        for line in path.read_text().splitlines():
            if line.startswith(("import ", "from ")):
                module = line.split()[1].split(".")[0]
                assert module not in names, (path, line)


@pytest.mark.parametrize(
    "argv",
    [["demo"], ["demo", "--ccm"], ["simulate"], ["snapshot", "--demo"], ["simulate", "--ccm"]],
)
def test_without_the_extra_one_line_says_how_to_add_it(argv, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    real = importlib.util.find_spec

    def without_moto(name, *args):
        return None if name == "moto" else real(name, *args)

    monkeypatch.setattr(extras.importlib.util, "find_spec", without_moto)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "moto missing" in err and f"{sys.executable} -m pip install 'cmltui[demo]'" in err
    assert not (tmp_path / "state").exists()  # nothing set up before the refusal


def test_the_monitor_imports_nothing_of_the_extra():
    """`cmltui --help` and the AWS path load no simulator package."""
    code = (
        "import sys, cmltui.cli.main, cmltui.cli.commands, cmltui.backends.direct.service, "
        "cmltui.tui.app; "
        "print(sorted(m for m in ('moto', 'flask', 'flask_cors', 'cryptography', 'yaml') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
