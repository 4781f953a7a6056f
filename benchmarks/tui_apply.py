"""Time for the dashboard to apply one 1000-worker snapshot and render the frame.

Run: python benchmarks/tui_apply.py [--workers 1000] [--rounds 30] [--profile]

The real `CmltuiApp` runs headless under `App.run_test(size=(160, 48))`, over the tests'
`ScriptedBackend`; every DTO comes from the real mapper (`tests/tui/tui_fleet.snapshot`). The
table is sorted by CPU (descending) and filtered on "running" (keeps 90% of the rows).

Each round: change the CPU of a given share of the workers (running ones), advance the manual
clock 10 s and map the whole fleet (outside the timed window), let the app go idle, then time
`app.backend.collect()` (backend -> history -> both channels -> every widget) until the frame is
rendered. "Rendered" is detected by wrapping `app._display` on the instance: it is what the
screen's update timer calls with the compositor's `CompositorUpdate` once the dirty regions are
painted. Headless Textual skips turning that into terminal bytes, so the wrapper does it
(`render_segments(app.console)`, as the real driver path does), counts the bytes and then takes
the timestamp. Headless, the console has the "standard" 16-colour system, so these bytes are
fewer than a 256-colour terminal gets (`tui_pty.py` measures real bytes). "First frame" is the
first such call after posting; "settled" is the last frame before the app went idle again
(`pilot.pause()`), in case a widget's update spills into a second frame. The per-part times
wrap each snapshot subscriber's callback, `FleetHistory.record`, the view-model's
`apply_snapshot` and the screen's `_compositor_refresh` on the instances (the app's code is
measured, not changed).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual._compositor import CompositorUpdate  # noqa: E402

from cmltui.api.events import FleetSnapshot  # noqa: E402
from cmltui.clock import ManualClock  # noqa: E402
from cmltui.config import Config  # noqa: E402
from cmltui.domain.enums import WorkerStatus  # noqa: E402
from cmltui.domain.status import CMLOutcome, CMLReach  # noqa: E402
from cmltui.domain.worker import CMLWorker, MetricReading  # noqa: E402
from cmltui.sources.cml_models import SystemStats  # noqa: E402
from cmltui.tui.app import CmltuiApp  # noqa: E402
from tests.tui.tui_backend import ScriptedBackend  # noqa: E402
from tests.tui.tui_fleet import NOW, _worker, snapshot, stats  # noqa: E402

SIZE = (160, 48)
SORT_KEY = "cpu"
FILTER = "running"
TARGET_MS = 20.0
ROLES = ("busy", "labs", "quiet", "idle", "stopped", "down", "eval", "busy", "labs", "quiet")


def build_fleet(count: int, seed: int = 11) -> list[CMLWorker]:
    """A varied fleet built the tests' way (CMLWorker objects, mapped later by the mapper)."""
    rng = random.Random(seed)
    workers = []
    for index in range(count):
        role = ROLES[index % len(ROLES)]
        worker = _worker(
            index,
            role,
            rng,
            cpu=rng.uniform(1, 99),
            mem=rng.uniform(5, 95),
            disk=rng.uniform(10, 95),
            labs=rng.randint(0, 6),
            started=rng.randint(0, 3),
            last_activity_ago_m=180.0 if role == "idle" else rng.uniform(1, 40),
            license="eval" if role == "eval" else "registered",
        )
        if role == "stopped":
            worker.status = WorkerStatus.STOPPED
            worker.ec2_state_detail = "User initiated"
            worker.cml.outcome = CMLOutcome()
        elif role == "down":
            worker.cml.outcome = CMLOutcome(reach=CMLReach.NO_ANSWER)
            worker.errors = {"cml": "connection refused"}
        workers.append(worker)
    return workers


def change_cpu(workers: list[CMLWorker], share: float, rng: random.Random) -> int:
    """Give `share` of the running workers a new CPU reading; returns how many changed."""
    running = [w for w in workers if w.status is WorkerStatus.RUNNING]
    chosen = rng.sample(running, round(len(workers) * share)) if share else []
    for worker in chosen:
        old = worker.cloudwatch.cpu.value if worker.cloudwatch.cpu else 50.0
        new = (old + rng.uniform(5, 40)) % 100
        s = worker.cml.system_info
        assert s is not None
        mem = 100 * s["memory_used"] / s["memory_total"]
        disk = 100 * s["disk_used"] / s["disk_total"]
        worker.cml.system_info = SystemStats.model_validate(stats(new, mem, disk)).normalised()
        taken = worker.cloudwatch.cpu.timestamp if worker.cloudwatch.cpu else NOW
        worker.cloudwatch.cpu = MetricReading(new, taken)
    return len(chosen)


@dataclass
class FrameProbe:
    """Wraps `app._display`: time and serialized size of every frame the screen renders."""

    frames: list[tuple[float, int]] = field(default_factory=list)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def install(self, app: CmltuiApp) -> None:
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            size = 0
            if isinstance(renderable, CompositorUpdate):
                size = len(renderable.render_segments(app.console).encode())
            self.frames.append((time.perf_counter(), size))
            self.event.set()

        app._display = display  # type: ignore[method-assign]

    def reset(self) -> None:
        self.frames.clear()
        self.event.clear()


class PartTimer:
    """Wall time per part of an apply: each snapshot subscriber, history, the frame render."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def wrap(self, label: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                self.ms[label] = self.ms.get(label, 0.0) + elapsed

        return timed

    def install(self, app: CmltuiApp) -> None:
        """Instance-level wrappers only: the app's code is measured, not changed."""
        subscriptions = app.bus.snapshots._subscriptions
        for node, callbacks in subscriptions.items():
            label = "panels" if "Panel" in type(node).__name__ else type(node).__name__
            callbacks[:] = [self._rewrap(node, label, cb) for cb in callbacks]
        app.history.record = self.wrap("FleetHistory.record", app.history.record)  # type: ignore[method-assign]
        view = getattr(app, "view", None)  # the view-model (absent before it existed)
        if view is not None:
            view.apply_snapshot = self.wrap("FleetView.apply_snapshot", view.apply_snapshot)  # type: ignore[method-assign]
        screen = app.screen
        screen._compositor_refresh = self.wrap(  # type: ignore[method-assign]
            "render (compositor + serialize)", screen._compositor_refresh
        )

    def _rewrap(self, node: Any, label: str, signal_callback: Any) -> Any:
        """Textual posts a subscriber's callback to the node (`call_next`); time the callback."""
        cells = dict(
            zip(
                signal_callback.__code__.co_freevars, signal_callback.__closure__ or (), strict=True
            )
        )
        timed = self.wrap(label, cells["callback"].cell_contents)
        return lambda data: node.call_next(timed, data)

    def take(self) -> dict[str, float]:
        taken, self.ms = self.ms, {}
        return taken


@dataclass
class Round:
    first_ms: float
    settled_ms: float
    cpu_ms: float
    frames: int
    frame_bytes: int
    rows: int
    changed: int
    parts: dict[str, float]


async def measure(
    count: int, share: float, rounds: int, profile: cProfile.Profile | None
) -> list[Round]:
    clock = ManualClock(NOW)
    config = Config()
    workers = build_fleet(count)
    rng = random.Random(5)
    current: list[FleetSnapshot] = [snapshot(workers, clock.now(), config)]
    backend = ScriptedBackend(lambda: current[0], clock)
    app = CmltuiApp(backend, config, clock, start_backend=False)
    probe = FrameProbe()
    parts = PartTimer()
    results: list[Round] = []
    async with app.run_test(size=SIZE) as pilot:
        probe.install(app)
        await app.backend.collect()
        await pilot.pause()
        table = app.table
        while table.sort_key != SORT_KEY:
            table.cycle_sort()
        table.set_filter(FILTER)
        await pilot.pause()
        shown = len(table.order)
        parts.install(app)
        for index in range(rounds + 3):  # three warm-up rounds
            changed = change_cpu(workers, share, rng)
            clock.advance(10)
            current[0] = snapshot(workers, clock.now(), config)
            await pilot.pause()
            await asyncio.sleep(0.05)
            probe.reset()
            parts.take()
            if profile and index >= 3:
                profile.enable()
            started, cpu = time.perf_counter(), time.process_time()
            await app.backend.collect()
            await asyncio.wait_for(probe.event.wait(), 5)
            first = probe.frames[0][0]
            cpu_used = time.process_time() - cpu
            taken = parts.take()
            if profile:
                profile.disable()
            await pilot.pause()
            if index < 3:
                continue
            results.append(
                Round(
                    first_ms=(first - started) * 1000,
                    settled_ms=(probe.frames[-1][0] - started) * 1000,
                    cpu_ms=cpu_used * 1000,
                    frames=len(probe.frames),
                    frame_bytes=sum(size for _, size in probe.frames),
                    rows=table.lines_refreshed,
                    changed=changed,
                    parts=taken,
                )
            )
    print(f"  {count} workers, {shown} shown after filter '{FILTER}', sort {SORT_KEY}")
    return results


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def report(label: str, rows: list[Round]) -> str:
    first = [r.first_ms for r in rows]
    settled = [r.settled_ms for r in rows]
    med = statistics.median(first)
    verdict = "meets" if med <= TARGET_MS else "MISSES"
    return (
        f"| {label} | {len(rows)} | {rows[0].changed} | {med:.1f} | {p90(first):.1f} "
        f"| {statistics.median(settled):.1f} | {statistics.median(r.cpu_ms for r in rows):.1f} "
        f"| {statistics.median(r.rows for r in rows):.0f} "
        f"| {statistics.median(r.frames for r in rows):.0f} "
        f"| {statistics.median(r.frame_bytes for r in rows):.0f} | {verdict} ≤{TARGET_MS:.0f} |"
    )


def breakdown(label: str, rows: list[Round]) -> str:
    names = sorted({name for r in rows for name in r.parts})
    medians = {n: statistics.median(r.parts.get(n, 0.0) for r in rows) for n in names}
    ordered = sorted(medians.items(), key=lambda item: -item[1])
    return f"  {label}: " + ", ".join(f"{n} {ms:.1f} ms" for n, ms in ordered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="cProfile the 10%% rounds")
    args = parser.parse_args()
    lines = [
        "| scenario | rounds | workers changed | first frame median ms | p90 ms "
        "| settled median ms | CPU median ms | rows flagged changed (lines_refreshed) "
        "| frames | frame bytes | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    parts_lines = ["median wall time per part (first frame included):"]
    for label, share in (("10% changed", 0.10), ("0% changed", 0.0)):
        print(f"{label}:")
        profile = cProfile.Profile() if args.profile and share else None
        rows = asyncio.run(measure(args.workers, share, args.rounds, profile))
        lines.append(report(label, rows))
        parts_lines.append(breakdown(label, rows))
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
            out.write("\n--- by own time ---\n")
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(20)
            print(out.getvalue())
    print("\n".join(lines))
    print("\n".join(parts_lines))


if __name__ == "__main__":
    main()
