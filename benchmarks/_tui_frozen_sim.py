"""`cmltui simulate` with the fleet's clock stopped: a fleet in which nothing ever changes.

`python benchmarks/_tui_frozen_sim.py --workers 12 [--seed 0]` prints the same banner as
`cmltui simulate` (so `_simproc.parse_info` reads it) and serves until SIGINT/SIGTERM. The
simulated fleet is a deterministic function of its clock (`SimulatedFleet.step` moves it to
`clock.now()`), so a `ManualClock` that is never advanced freezes utilization, labs and
activity: every collector cycle then sees the same fleet. The dashboard benchmark uses it to
measure refreshes in which no worker changed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from cmltui.clock import ManualClock, SystemClock
from cmltui.sim.runner import SimulatedFleet, simulate_info_text


async def serve(workers: int, seed: int, host: str) -> None:
    clock = ManualClock(SystemClock().now())
    fleet = SimulatedFleet(workers=workers, seed=seed, host=host, clock=clock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await fleet.start()
    try:
        print(simulate_info_text(fleet), flush=True)
        await stop.wait()
    finally:
        await fleet.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    asyncio.run(serve(args.workers, args.seed, args.host))


if __name__ == "__main__":
    main()
