"""What the live dashboard writes to a real terminal per refresh, and its CPU when idle.

Run: python benchmarks/tui_pty.py [--seconds 80] [--only drift|frozen|frozen-full] [--show-lines]
     python benchmarks/tui_pty.py --vs-htop [--seconds 120]   # side by side with `htop -d 20`

For each run, the simulator runs in its own process and `python -m cmltui run` runs in a
pseudo-terminal (160x48 set with TIOCSWINSZ, TERM=xterm-256color, TZ=UTC, HOME and XDG
directories in a temp dir, no AWS config files), pointed at the simulator only through the
environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION,
CMLTUI_CML_PASSWORD, CMLTUI_CML_CA_BUNDLE). The collector interval is the default 10 s.

- drift: `cmltui simulate --workers 12` (utilization drifts, labs change).
- frozen: `benchmarks/_tui_frozen_sim.py`, the same fleet with its clock stopped, so the
  simulator answers the same every cycle (times derived from the real clock, such as idle
  minutes and uptime, still move, as they would on a quiet real fleet).
- frozen-full: frozen, with `[ui] history_points = 5` in a config file and the first six
  refreshes skipped, so the selected worker's sparklines are full and stop changing.

The pty is read continuously; every chunk is timed and fed to a `pyte` screen (if installed).
A refresh is detected when the header's "updated HH:MM:SS" text changes (the snapshot's
collection start); its bytes are those written from 1 s before that chunk to 1.5 s after it,
split per screen row at the cursor-position sequences. The first two refreshes (first paint,
logins, first idle check) are skipped. Between refreshes, the app's CPU is read from
/proc/<pid>/stat (utime + stime, all threads) over the quiet window from 2 s after a refresh's
frame to just before the next cycle starts (its "updated" time). With pyte, each refresh's
screen (1.5 s after it) is diffed against the previous one: a refresh whose worker-table rows
(left of the detail pane) are identical counts as "no row changed", and the lines that changed
are listed. At the end the app gets SIGTERM and the simulator SIGINT.

--vs-htop: in one run, with one simulator (drift, 12 workers), three programs run at the same
time, each in its own 160x48 pty: `cmltui run --interval 2`, `cmltui run` (10 s) and
`htop -d 20` (a 2 s delay). After a warm-up (logins, first reads), each one's CPU
(utime + stime from /proc) and the bytes it wrote are taken over the same window, and the
ratios to htop are printed, then each cmltui's CPU split by thread (/proc/<pid>/task): the
main thread (event loop: collection, dashboard), its other long-lived threads (Textual's input
and output threads) and the threads that ended within the window (one per AWS call). Without
htop on the PATH this mode says so and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from _simproc import _LAST_LINE, SimInfo, parse_info

from cmltui.clock import SystemClock

try:
    import pyte
except ImportError:  # optional: refreshes are then found in the raw bytes, and not classified
    pyte = None

HERE = Path(__file__).resolve().parent
COLS, ROWS = 160, 48
UPDATED = re.compile(r"updated (\d\d:\d\d:\d\d)")
UPDATED_RAW = re.compile(rb"updated (\d\d:\d\d:\d\d)")
WORKER_LINE = re.compile(r"^(\S+)\s+(?:\S+\s+)?(i-[0-9a-f]+)\s+(\w+)\s+")  # name [region] id state
BEFORE_S, AFTER_S = 1.0, 1.5
QUIET_AFTER_S = 2.0
SKIP_REFRESHES = 2
FULL_POINTS = 5  # history_points for the frozen-full run: sparklines full after 5 refreshes
TICK = os.sysconf("SC_CLK_TCK")
TARGET_REFRESH_B = 2048
TARGET_QUIET_B = 200
TARGET_CPU_PCT = 0.5


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Simulator:
    """The simulator in its own process; `info` is what its banner says."""

    def __init__(self, frozen: bool, workers: int, seed: int) -> None:
        script = [str(HERE / "_tui_frozen_sim.py")] if frozen else ["-m", "cmltui", "simulate"]
        self._stderr: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, *script, "--workers", str(workers), "--seed", str(seed)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            preexec_fn=_default_sigint,
        )
        lines: list[str] = []
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            lines.append(line)
            if _LAST_LINE.match(line):
                break
        else:
            self.stop()
            raise RuntimeError("simulator exited before it was ready")
        self.info: SimInfo = parse_info(lines)
        self.names = [m.group(1) for m in map(WORKER_LINE.match, lines) if m]

    def stop(self) -> int | None:
        """SIGINT (its clean stop), then SIGTERM, then SIGKILL."""
        for sig, wait_s in ((signal.SIGINT, 60.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            if self.proc.poll() is not None:
                break
            self.proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(wait_s)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()
        return self.proc.returncode


def app_env(info: SimInfo, home: Path) -> dict[str, str]:
    """Only what the app needs: the simulator's endpoints, a private HOME, a fixed TZ."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "TZ": "UTC",
        "HOME": str(home),
        "AWS_ENDPOINT_URL": info.aws_endpoint_url,
        "AWS_ACCESS_KEY_ID": info.access_key,
        "AWS_SECRET_ACCESS_KEY": info.secret_key,
        "AWS_DEFAULT_REGION": info.region,
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "CMLTUI_CML_PASSWORD": info.cml_password,
        "CMLTUI_CML_CA_BUNDLE": str(info.ca_file),
        "CMLTUI_CML_ALLOWED_HOSTS": "127.0.0.1",  # the simulator's URL tags name loopback
    }
    if os.environ.get("PYTHONPATH"):  # lets a "before" tree be measured with the same script
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(home / name.lower())
    return env


def task_ticks(pid: int) -> dict[int, int]:
    """utime + stime of each live thread of a process, by thread id."""
    ticks: dict[int, int] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[int(tid)] = int(fields[11]) + int(fields[12])
    return ticks


def cpu_ticks(pid: int) -> int:
    """utime + stime of the whole process (all threads), in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@dataclass
class Refresh:
    at: float  # monotonic time of the chunk that changed "updated"
    updated: str
    started: float  # the cycle's start (monotonic, from "updated", floored to the second)
    screen: list[str] | None = None
    bytes: int = 0
    table_changed: bool | None = None
    changed_lines: list[int] = field(default_factory=list)
    row_bytes: dict[int, int] = field(default_factory=dict)


@dataclass
class Run:
    label: str
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    skip: int = SKIP_REFRESHES
    cpu: list[tuple[float, int]] = field(default_factory=list)
    refreshes: list[Refresh] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    exit_code: int | None = None
    sim_exit: int | None = None
    quiet_cpu_s: float = 0.0
    quiet_wall_s: float = 0.0
    total_cpu_s: float = 0.0
    total_wall_s: float = 0.0
    other_bytes: int = 0


def measure(
    label: str, frozen: bool, seconds: float, workers: int, seed: int, history_points: int | None
) -> Run:
    run = Run(label, skip=SKIP_REFRESHES if history_points is None else history_points + 1)
    clock = SystemClock()
    sim = Simulator(frozen, workers, seed)
    run.names = sim.names
    home = Path(tempfile.mkdtemp(prefix="cmltui-tui-bench-"))
    env = app_env(sim.info, home)
    if history_points is not None:
        config_file = home / "cmltui.toml"
        config_file.write_text(f"[ui]\nhistory_points = {history_points}\n")
        env["CMLTUI_CONFIG"] = str(config_file)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

    def own_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    app = subprocess.Popen(
        [sys.executable, "-m", "cmltui", "run"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=own_terminal,
        env=env,
        cwd=home,
    )
    os.close(slave)
    screen = pyte.Screen(COLS, ROWS) if pyte else None
    stream = pyte.ByteStream(screen) if screen else None
    last_updated: str | None = None
    pending: list[Refresh] = []
    try:
        started = time.monotonic()
        next_sample = started
        while (now := time.monotonic()) < started + seconds:
            if now >= next_sample:
                run.cpu.append((now, cpu_ticks(app.pid)))
                next_sample = now + 0.2
            for refresh in [r for r in pending if now >= r.at + AFTER_S]:
                refresh.screen = list(screen.display) if screen else None
                pending.remove(refresh)
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if app.poll() is not None:
                    raise RuntimeError(f"the app exited early ({app.returncode})")
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                break
            at = time.monotonic()
            run.chunks.append((at, data))
            if stream is not None and screen is not None:
                stream.feed(data)
                match = UPDATED.search(screen.display[0])
                updated = match.group(1) if match else None
            else:
                found = UPDATED_RAW.findall(data)
                updated = found[-1].decode() if found else last_updated
            if updated and updated != last_updated:
                last_updated = updated
                refresh = Refresh(at, updated, _cycle_start(updated, clock.now(), at))
                run.refreshes.append(refresh)
                pending.append(refresh)
        run.cpu.append((time.monotonic(), cpu_ticks(app.pid)))
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while app.poll() is None and time.monotonic() < deadline:
            _drain(master, 0.1)
        if app.poll() is None:
            app.kill()
            app.wait()
        run.exit_code = app.returncode
        os.close(master)
        run.sim_exit = sim.stop()
        shutil.rmtree(home, ignore_errors=True)
    _attribute(run)
    return run


def _drain(fd: int, timeout: float) -> None:
    ready, _, _ = select.select([fd], [], [], timeout)
    if ready:
        with contextlib.suppress(OSError):
            os.read(fd, 1 << 16)


def _cycle_start(updated: str, wall_now: datetime, mono_now: float) -> float:
    """The monotonic time of a cycle's start from its "updated HH:MM:SS" (UTC, floored)."""
    hours, minutes, secs = (int(part) for part in updated.split(":"))
    stamp = wall_now.replace(hour=hours, minute=minutes, second=secs, microsecond=0)
    if stamp > wall_now + timedelta(hours=1):  # "updated" was before midnight
        stamp -= timedelta(days=1)
    return mono_now - (wall_now - stamp).total_seconds()


def _cpu_between(samples: list[tuple[float, int]], start: float, end: float) -> tuple[float, float]:
    """CPU seconds and wall seconds between the first and last samples inside [start, end]."""
    inside = [(t, ticks) for t, ticks in samples if start <= t <= end]
    if len(inside) < 2:
        return 0.0, 0.0
    return (inside[-1][1] - inside[0][1]) / TICK, inside[-1][0] - inside[0][0]


def _table_lines(screen: list[str], names: list[str]) -> list[int]:
    """Screen lines that hold worker-table rows: a worker's name followed by its status."""
    statuses = ("running", "stopped", "pending", "stopping", "terminated", "unknown")
    return [
        index
        for index, line in enumerate(screen)
        if any(name[:12] in line for name in names) and any(s in line for s in statuses)
    ]


def _table_width(screen: list[str]) -> int:
    """Where the detail pane starts: the indent of its "Pause / resume" title (else full)."""
    for line in screen:
        if "Pause / resume" in line:
            return len(line) - len(line.lstrip())
    return COLS


CUP = re.compile(rb"\x1b\[(\d+);(\d+)H")


def _bytes_per_row(data: bytes) -> dict[int, int]:
    """Split a frame at its cursor moves: bytes written to each screen row (-1: before any)."""
    rows: dict[int, int] = {}
    row, last = -1, 0
    for match in CUP.finditer(data):
        rows[row] = rows.get(row, 0) + match.start() - last
        row, last = int(match.group(1)) - 1, match.start()
    rows[row] = rows.get(row, 0) + len(data) - last
    return {r: n for r, n in rows.items() if n}


def _attribute(run: Run) -> None:
    """Bytes per refresh, table-changed classification, and CPU over the quiet windows."""
    measured = run.refreshes[run.skip :]
    windows = []
    for refresh in measured:
        lo, hi = refresh.at - BEFORE_S, refresh.at + AFTER_S
        data = b"".join(chunk for t, chunk in run.chunks if lo <= t <= hi)
        refresh.bytes = len(data)
        refresh.row_bytes = _bytes_per_row(data)
        windows.append((lo, hi))
    previous = run.refreshes[run.skip - 1] if 0 < run.skip <= len(run.refreshes) else None
    for refresh in measured:
        if previous and previous.screen and refresh.screen:
            width = _table_width(refresh.screen)
            rows = _table_lines(refresh.screen, run.names)
            refresh.changed_lines = [
                i
                for i, (a, b) in enumerate(zip(previous.screen, refresh.screen, strict=True))
                if a != b
            ]
            refresh.table_changed = any(
                previous.screen[i][:width] != refresh.screen[i][:width] for i in rows
            )
        previous = refresh
    if measured:
        first_window = measured[0].at - BEFORE_S
        last_window = measured[-1].at + AFTER_S
        run.other_bytes = sum(
            len(chunk)
            for t, chunk in run.chunks
            if first_window <= t <= last_window and not any(lo <= t <= hi for lo, hi in windows)
        )
        cpu, wall = _cpu_between(run.cpu, measured[0].at, measured[-1].at)
        run.total_cpu_s, run.total_wall_s = cpu, wall
    for refresh, following in itertools.pairwise(measured):
        cpu, wall = _cpu_between(run.cpu, refresh.at + QUIET_AFTER_S, following.started - 0.2)
        run.quiet_cpu_s += cpu
        run.quiet_wall_s += wall


def summary(run: Run) -> list[str]:
    measured = run.refreshes[run.skip :]
    sizes = [r.bytes for r in measured]
    quiet = [r.bytes for r in measured if r.table_changed is False]
    changed = [r.bytes for r in measured if r.table_changed]
    pct = 100 * run.quiet_cpu_s / run.quiet_wall_s if run.quiet_wall_s else float("nan")
    total_pct = 100 * run.total_cpu_s / run.total_wall_s if run.total_wall_s else float("nan")

    def stat(values: list[int]) -> str:
        if not values:
            return "—"
        return f"{statistics.median(values):.0f} / {max(values)}"

    lines = [
        f"| {run.label} | {len(measured)} | {stat(sizes)} | {stat(changed)} | {stat(quiet)} "
        f"| {run.other_bytes} | {pct:.2f}% over {run.quiet_wall_s:.0f} s "
        f"| {total_pct:.2f}% | {run.exit_code} / {run.sim_exit} |"
    ]
    return lines


def details(run: Run, show_lines: bool) -> list[str]:
    out = [f"{run.label}: refreshes (updated, bytes, table rows changed?, screen lines changed)"]
    for refresh in run.refreshes[run.skip :]:
        lines = _ranges(refresh.changed_lines)
        per_row = " ".join(f"{r}:{n}" for r, n in sorted(refresh.row_bytes.items()))
        out.append(
            f"  {refresh.updated}  {refresh.bytes:6d} B  table rows changed: "
            f"{refresh.table_changed}  lines changed {lines}  bytes by row {per_row}"
        )
        if show_lines and refresh.screen:
            out += [f"    {i:2d}| {refresh.screen[i].rstrip()}" for i in refresh.changed_lines]
    return out


def _ranges(values: list[int]) -> str:
    spans: list[list[int]] = []
    for value in values:
        if spans and value == spans[-1][1] + 1:
            spans[-1][1] = value
        else:
            spans.append([value, value])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans) or "none"


@dataclass
class PtyProgram:
    """A program in its own pty; its output is drained and counted, its CPU read from /proc."""

    label: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    proc: subprocess.Popen[bytes] | None = None
    master: int = -1
    bytes_total: int = 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, cpu ticks, bytes)
    tasks: list[tuple[float, dict[int, int]]] = field(default_factory=list)  # (t, ticks by tid)

    def start(self) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))

        def own_terminal() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            preexec_fn=own_terminal,
            env=self.env,
            cwd=self.cwd,
        )
        os.close(slave)
        self.master = master

    def sample(self, now: float) -> None:
        assert self.proc is not None
        with contextlib.suppress(OSError):
            self.samples.append((now, cpu_ticks(self.proc.pid), self.bytes_total))
            self.tasks.append((now, task_ticks(self.proc.pid)))

    def thread_split(self, start: float, end: float) -> tuple[float, float, float]:
        """CPU percent of (main thread, other live threads, threads that ended) in a window."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        tasks = [t for t in self.tasks if start <= t[0] <= end]
        assert self.proc is not None
        if len(inside) < 2 or len(tasks) < 2:
            return float("nan"), float("nan"), float("nan")
        (t0, c0, _), (t1, c1, _) = inside[0], inside[-1]
        before, after = tasks[0][1], tasks[-1][1]
        spent = {tid: ticks - before.get(tid, 0) for tid, ticks in after.items()}
        main = spent.get(self.proc.pid, 0)
        others = sum(spent.values()) - main
        ended = (c1 - c0) - main - others

        def pct(ticks: int) -> float:
            return 100 * ticks / TICK / (t1 - t0)

        return pct(main), pct(others), pct(ended)

    def stop(self) -> int | None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while self.proc.poll() is None and time.monotonic() < deadline:
            _drain(self.master, 0.1)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        return self.proc.returncode

    def rates(self, start: float, end: float) -> tuple[float, float]:
        """CPU percent of one core and bytes per second between two sample times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return float("nan"), float("nan")
        (t0, c0, b0), (t1, c1, b1) = inside[0], inside[-1]
        return 100 * (c1 - c0) / TICK / (t1 - t0), (b1 - b0) / (t1 - t0)


def versus_htop(seconds: float, warmup: float, workers: int, seed: int) -> int:
    """cmltui at 2 s and at 10 s beside `htop -d 20`, all in one run; prints the ratios."""
    htop = shutil.which("htop")
    if htop is None:
        print("htop is not installed (Debian: apt-get install htop): side-by-side run skipped")
        return 0
    sim = Simulator(False, workers, seed)
    homes = [Path(tempfile.mkdtemp(prefix="cmltui-vs-htop-")) for _ in range(3)]
    programs = [
        PtyProgram(
            "cmltui --interval 2",
            [sys.executable, "-m", "cmltui", "run", "--interval", "2"],
            app_env(sim.info, homes[0]),
            homes[0],
        ),
        PtyProgram(
            "cmltui (10 s)",
            [sys.executable, "-m", "cmltui", "run"],
            app_env(sim.info, homes[1]),
            homes[1],
        ),
        PtyProgram("htop -d 20", [htop, "-d", "20"], app_env(sim.info, homes[2]), homes[2]),
    ]
    exits: list[int | None] = []
    try:
        for program in programs:
            program.start()
        began = time.monotonic()
        next_sample = began
        by_fd = {p.master: p for p in programs}
        while (now := time.monotonic()) < began + warmup + seconds:
            if now >= next_sample:
                for program in programs:
                    program.sample(now)
                next_sample = now + 0.5
            ready, _, _ = select.select(list(by_fd), [], [], 0.1)
            for fd in ready:
                try:
                    by_fd[fd].bytes_total += len(os.read(fd, 1 << 16))
                except OSError:
                    by_fd.pop(fd)
            for program in programs:
                assert program.proc is not None
                if program.proc.poll() is not None:
                    raise RuntimeError(f"{program.label} exited early ({program.proc.returncode})")
        for program in programs:
            program.sample(time.monotonic())
    finally:
        for program in programs:
            if program.proc is not None:
                exits.append(program.stop())
        sim_exit = sim.stop()
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    start, end = began + warmup, began + warmup + seconds
    figures = {p.label: p.rates(start, end) for p in programs}
    htop_cpu, htop_bps = figures["htop -d 20"]
    print(f"side by side, {workers} workers, {COLS}x{ROWS}, {seconds:.0f} s after {warmup:.0f} s")
    print("| program | CPU (% of one core) | bytes/s | CPU ÷ htop | bytes/s ÷ htop |")
    print("|---|---:|---:|---:|---:|")
    for label, (cpu, bps) in figures.items():
        ratios = f"{cpu / htop_cpu:.2f}× | {bps / htop_bps:.2f}×"
        print(f"| `{label}` | {cpu:.2f} % | {bps:.0f} | {ratios} |")
    fast_cpu, fast_bps = figures["cmltui --interval 2"]
    slow_cpu, _ = figures["cmltui (10 s)"]
    print(
        f"targets: 2 s CPU ≤ 2.5× htop: {fast_cpu / htop_cpu:.2f}×; "
        f"10 s CPU ≤ 1× htop: {slow_cpu / htop_cpu:.2f}×; "
        f"2 s bytes/s ≤ 1× htop: {fast_bps / htop_bps:.2f}×"
    )
    print("| cmltui | main thread | other live threads | threads that ended (AWS calls) |")
    print("|---|---:|---:|---:|")
    for program in programs[:2]:
        main_pct, others_pct, ended_pct = program.thread_split(start, end)
        print(f"| `{program.label}` | {main_pct:.2f} % | {others_pct:.2f} % | {ended_pct:.2f} % |")
    print(f"exit codes (SIGTERM): {exits}, simulator {sim_exit}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=80.0)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("drift", "frozen", "frozen-full"))
    parser.add_argument("--show-lines", action="store_true", help="print the changed lines")
    parser.add_argument("--vs-htop", action="store_true", help="side by side with htop -d 20")
    parser.add_argument("--warmup", type=float, default=20.0, help="--vs-htop: seconds skipped")
    args = parser.parse_args()
    if args.vs_htop:
        raise SystemExit(versus_htop(args.seconds, args.warmup, args.workers, args.seed))
    if pyte is None:
        print("pyte is not installed: refreshes are found in raw bytes and not classified")
    runs: list[Run] = []
    plans = (("drift", False, None), ("frozen", True, None), ("frozen-full", True, FULL_POINTS))
    for label, frozen, points in plans:
        if args.only and args.only != label:
            continue
        # frozen-full first waits for the sparklines to fill (one refresh per 10 s interval).
        seconds = args.seconds + (10.0 * (points + 1) if points else 0.0)
        print(f"{label}: {seconds:.0f} s with {args.workers} workers…", flush=True)
        run = measure(label, frozen, seconds, args.workers, args.seed, points)
        runs.append(run)
        print("\n".join(details(run, args.show_lines)), flush=True)
    header: list[Any] = [
        "| simulator | refreshes | bytes/refresh median / max | rows changed: median / max "
        "| no row changed: median / max | bytes outside refreshes | app CPU between refreshes "
        "| app CPU overall | exit app / sim |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        header += summary(run)
    print("\n".join(header))
    print(
        f"targets: ≤ {TARGET_REFRESH_B} B per refresh, ≤ {TARGET_QUIET_B} B when no worker "
        f"changed, ≤ {TARGET_CPU_PCT}% CPU between refreshes"
    )


if __name__ == "__main__":
    main()
