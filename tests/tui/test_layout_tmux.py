"""Every row of the layout corpus lines up in tmux.

The dashboard runs in a real tmux at a fixed size, on the fixture fleet renamed with names that
Rich and terminals measure differently (stacked combining marks, VS16, skin tones, Hangul
fillers, wide and joined characters) or that are hostile to a layout (bidi, zero-width, line
breaks, 5,000 characters). `tmux capture-pane -p` gives the screen as tmux holds it; cells are
counted with the C library's `wcwidth`, which is what tmux 3.3 counts them with. In every row
the STATUS and REGION columns start at the header's cell, and no line is wider than the pane.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import locale
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len

from cmltui.domain.sanitize import cell_text
from cmltui.tui.safe import fit_cells
from tests.cli.test_snapshot import clean_env
from tests.hostile_corpus import LAYOUT, WIDTH_TRICKS

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 200, 45
STATUS = re.compile(r"(?<= )(running|stopped|pending|stopping)(?= )")
REGION = re.compile(r"(?<= )(us-east-1|eu-west-1)(?= )")

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
    pytest.mark.skipif(sys.platform != "linux", reason="needs the C library's wcwidth"),
]


@pytest.fixture(scope="module")
def wcwidth() -> Iterator[ctypes._CFuncPtr]:
    """The C library's `wcwidth` under a UTF-8 locale (as tmux measures a cell)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    function = libc.wcwidth
    function.argtypes = [ctypes.c_wchar]
    function.restype = ctypes.c_int
    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    try:
        yield function
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def cells(text: str, wcwidth) -> int:
    return sum(max(0, wcwidth(char)) for char in text)


@contextlib.contextmanager
def tmux_running(which: str, tmp_path: Path) -> Iterator[str]:
    socket = f"cmltui-layout-{which}-{tmp_path.name}"
    env = clean_env(tmp_path, LANG="C.UTF-8", TZ="UTC", PYTHONPATH=str(ROOT))
    command = f"{sys.executable} -m tests.tui.tui_layout_main {which}"
    size = ["-x", str(WIDTH), "-y", str(HEIGHT)]
    subprocess.run(
        [
            "tmux",
            "-L",
            socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            *size,
            "-c",
            str(ROOT),
            command,
        ],
        check=True,
        env=env,
        timeout=30,
    )
    try:
        yield socket
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], env=env, timeout=30, check=False)


def capture(socket: str) -> list[str]:
    out = subprocess.run(
        ["tmux", "-L", socket, "capture-pane", "-p", "-t", "0"],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return out.stdout.decode("utf-8", "replace").split("\n")


def table_rows(screen: list[str]) -> tuple[str, list[str]]:
    header = next(i for i, line in enumerate(screen) if " NAME" in line and "STATUS" in line)
    rows = [line for line in screen[header + 1 : header + 13] if STATUS.search(line)]
    return screen[header], rows


def wait_for_rows(socket: str, count: int, timeout: float = 60) -> list[str]:
    """The screen once the table shows `count` rows and a second look finds it unchanged."""
    deadline = time.monotonic() + timeout
    last: list[str] = []
    while time.monotonic() < deadline:
        screen = capture(socket)
        with contextlib.suppress(StopIteration):
            if len(table_rows(screen)[1]) == count and screen == last:
                return screen
        last = screen
        time.sleep(0.5)
    raise AssertionError("the table did not fill:\n" + "\n".join(last))


@pytest.mark.parametrize(
    ("which", "names"), [("width", WIDTH_TRICKS), ("layout", LAYOUT)], ids=["width", "layout"]
)
def test_every_row_lines_up_in_tmux(which, names, tmp_path, wcwidth):
    with tmux_running(which, tmp_path) as socket:
        screen = wait_for_rows(socket, 12)
    header, rows = table_rows(screen)
    status_at = cells(header[: header.index("STATUS")], wcwidth)
    region_at = cells(header[: header.index("REGION")], wcwidth)
    shown = "\n".join(screen)
    for row in rows:
        status = STATUS.search(row)
        region = REGION.search(row)
        assert status is not None and region is not None, row
        assert cells(row[: status.start()], wcwidth) == status_at, f"STATUS moved: {row!r}"
        assert cells(row[: region.start()], wcwidth) == region_at, f"REGION moved: {row!r}"
    for line in screen:
        assert cells(line, wcwidth) <= WIDTH, f"wider than the pane: {line!r}"
    if which == "width":
        # A name of fillers alone shows nothing, so its row shows the instance id instead.
        assert re.search(r"^  i-[0-9a-f]{17} ", "\n".join(rows), re.MULTILINE), shown


@pytest.mark.parametrize("name", WIDTH_TRICKS + LAYOUT[:5], ids=range(len(WIDTH_TRICKS) + 5))
def test_rich_and_the_terminal_measure_a_fitted_name_alike(name, wcwidth):
    fitted = fit_cells(name, 24)
    assert cell_len(fitted) == 24 == cells(fitted, wcwidth), repr(fitted)
    assert cell_len(cell_text(name)) == cells(cell_text(name), wcwidth)
