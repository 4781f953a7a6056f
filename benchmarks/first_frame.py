"""How soon the dashboard paints, and how soon it shows figures, in a real terminal.

Run: python benchmarks/first_frame.py [--runs 5] [--only run,demo,demo200] [--pythonpath DIR]

Each case starts `python -m cmltui …` on a fresh pseudo-terminal (160x48 with TIOCSWINSZ,
TERM=xterm-256color, TZ=UTC, HOME and XDG directories in a temp dir, no AWS settings) and reads
it continuously into a `pyte` screen (pip install pyte). From the moment the process is
started, it notes:

- first frame: the screen first shows the header (` cmltui ` and the update stamp's
  `every 10s`) and the footer's `Quit`: the dashboard's frame is on screen;
- first figures: `run` with no credentials, the error panel ("No workers could be listed", its
  first answer); `demo`, a worker row with a CPU figure (`cml-… running … 42`) and the
  header's burn in dollars.

Then the app gets SIGTERM. `--pythonpath` puts another checkout first on the path, to time
an older commit with the same script and interpreter (`git archive <commit> | tar -x -C DIR`).
Prints each run and the median per case; nothing asserts timings.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pyte

COLS, ROWS = 160, 48
CASES: dict[str, list[str]] = {
    "run": ["run"],
    "demo": ["demo"],
    "demo200": ["demo", "--workers", "200"],
}
TARGETS = {"run": (0.5, None), "demo": (1.0, 3.0), "demo200": (1.0, 5.0)}
FIGURE_ROW = re.compile(r"cml-\S+\s+running\s+\S+(?:\s+\d+\S*)?\s+\d+")
BURN = re.compile(r"burn \$\d")


@dataclass
class Timing:
    frame: float | None = None
    figures: float | None = None


def _env(home: Path, pythonpath: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "TZ": "UTC",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def _shows_frame(text: str) -> bool:
    lines = text.splitlines()
    return bool(lines) and " cmltui " in lines[0] and "every 10s" in lines[0] and "Quit" in text


def _shows_figures(case: str, text: str) -> bool:
    if case == "run":
        return "No workers could be listed" in text
    return bool(FIGURE_ROW.search(text)) and bool(BURN.search(text))


def measure(case: str, pythonpath: str | None, timeout: float) -> Timing:
    home = Path(tempfile.mkdtemp(prefix="cmltui-first-frame-"))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

    def own_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    timing = Timing()
    started = time.monotonic()
    app = subprocess.Popen(
        [sys.executable, "-m", "cmltui", *CASES[case]],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=own_terminal,
        env=_env(home, pythonpath),
        cwd=home,
    )
    os.close(slave)
    try:
        while time.monotonic() < started + timeout and timing.figures is None:
            ready, _, _ = select.select([master], [], [], 0.02)
            if not ready:
                if app.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                break
            at = time.monotonic() - started
            stream.feed(data)
            text = "\n".join(screen.display)
            if timing.frame is None and _shows_frame(text):
                timing.frame = at
            if timing.frame is not None and _shows_figures(case, text):
                timing.figures = at
    finally:
        with contextlib.suppress(ProcessLookupError):
            app.send_signal(signal.SIGTERM)
        end = time.monotonic() + 10
        while app.poll() is None and time.monotonic() < end:
            with contextlib.suppress(OSError):
                select.select([master], [], [], 0.1)
                os.read(master, 1 << 16)
        if app.poll() is None:
            app.kill()
            app.wait()
        os.close(master)
    return timing


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--pythonpath", default=None, help="another checkout, first on the path")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    cases = [c for c in args.only.split(",") if c]
    print(f"python {sys.version.split()[0]}, {COLS}x{ROWS}, pythonpath={args.pythonpath or '-'}")
    for case in cases:
        timings = []
        for index in range(args.runs):
            timing = measure(case, args.pythonpath, args.timeout)
            timings.append(timing)
            print(f"  {case:<8} run {index + 1}: frame {_fmt(timing.frame)}, "
                  f"figures {_fmt(timing.figures)}", flush=True)
        frames = [t.frame for t in timings if t.frame is not None]
        figures = [t.figures for t in timings if t.figures is not None]
        frame_target, figure_target = TARGETS[case]
        print(
            f"{case:<8} median: first frame {_fmt(statistics.median(frames) if frames else None)}"
            f" (target ≤ {frame_target:g} s), first figures "
            f"{_fmt(statistics.median(figures) if figures else None)}"
            + (f" (target ≤ {figure_target:g} s)" if figure_target else " (first answer)"),
            flush=True,
        )


if __name__ == "__main__":
    main()
