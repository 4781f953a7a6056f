"""Start-up time of the simulated fleet for 12, 100 and 1000 workers, and its steady-state CPU.

Run: python benchmarks/sim_startup.py [--sizes 12,100,1000] [--steady 30]
The steady-state figure is the CPU time the simulator process spends per wall second while
the fleet sits idle with its background step running (no clients), on an OffsetClock. The
start-up is also split by the phases `SimulatedFleet.start(progress)` reports (the rest, before
the first phase, is moto's and the TLS material's start).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from cmltui.clock import OffsetClock
from cmltui.sim import SimulatedFleet

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def measure(size: int, steady_s: float) -> None:
    fleet = SimulatedFleet(workers=size, seed=0, clock=OffsetClock(START))
    marks: dict[str, list[float]] = {}

    def progress(phase: str, done: int, total: int) -> None:
        marks.setdefault(phase, []).append(time.perf_counter())

    wall, cpu = time.perf_counter(), time.process_time()
    await fleet.start(progress)
    started_wall, started_cpu = time.perf_counter() - wall, time.process_time() - cpu
    phases = ", ".join(f"{phase} {t[-1] - t[0]:.2f} s" for phase, t in marks.items())
    first = min(t[0] for t in marks.values()) - wall
    line = (
        f"{size:>5} workers: start {started_wall:6.2f} s wall, {started_cpu:6.2f} s CPU "
        f"(servers {first:.2f} s, {phases})"
    )
    if steady_s > 0:
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.sleep(steady_s)
        share = (time.process_time() - cpu) / (time.perf_counter() - wall)
        line += f"; steady state over {steady_s:.0f} s: {100 * share:5.1f}% of one core"
    wall = time.perf_counter()
    await fleet.stop()
    print(f"{line}; stop {time.perf_counter() - wall:.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="12,100,1000")
    parser.add_argument("--steady", type=float, default=30.0)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        asyncio.run(measure(size, args.steady))


if __name__ == "__main__":
    main()
