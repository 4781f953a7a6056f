"""What publishing a Cloud Manager fleet snapshot costs, and how long it holds the event loop.

    python benchmarks/ccm_publish.py [--workers 20000] [--rounds 3]

The backend is filled with the test double's payloads (upstream's shapes) for `--workers`
workers, each with its lab list and idle verdict as the readers would leave them, and then
builds the fleet snapshot the way its publisher does (`publish_async`, which yields to the
loop between chunks of workers) and all at once (`publish`). A probe task that wants the loop
every millisecond records the longest it had to wait: what a key press would wait. Nothing here
asserts a timing (README, "Benchmarks").

`PYTHONPATH=<checkout of another commit>` measures that commit with the same script (a backend
without `fleet` is filled through its old `_store`, and has no `publish_async`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cmltui.audit import AuditLog  # noqa: E402
from cmltui.backends.ccm.backend import CcmBackend  # noqa: E402
from cmltui.clock import ManualClock  # noqa: E402
from cmltui.config import Config  # noqa: E402
from cmltui.sim.ccm_model import CcmModel  # noqa: E402

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def filled_backend(workers: int, tmp: Path) -> CcmBackend:
    config = Config.model_validate(
        {"source": {"kind": "ccm", "url": "https://127.0.0.1:9", "token_env": None}}
    )
    backend = CcmBackend(
        config, clock=ManualClock(T0), env={}, audit=AuditLog(tmp / "audit.jsonl")
    )
    model = CcmModel(workers, 0, T0)
    fleet = getattr(backend, "fleet", None)
    for worker in model.workers.values():
        payload = model.snapshot(worker, T0)
        if fleet is None:  # an older commit
            backend._store(payload, T0, "us-east-1")  # type: ignore[attr-defined]
            continue
        fleet.store(payload, T0, "us-east-1")
        if worker.status == "running":
            from cmltui.ccm_facts import read_idle_status, read_labs

            fleet.set_labs(worker.id, read_labs(model.labs(worker)), T0)
            fleet.set_verdict(worker.id, read_idle_status(model.idle_status(worker, T0), T0))
    return backend


async def longest_wait(run: object) -> tuple[float, float, float, float]:
    """(seconds `run` took, longest the probe waited for the loop meanwhile, the CPU time the
    process spent during that wait (less than the wait: the machine's other jobs had the CPU),
    seconds it takes to free what `run` built: the previous snapshot's DTOs are freed in one go
    when its last holder drops it, which is the dashboard's part, so it is measured apart)."""
    worst = worst_cpu = 0.0
    done = False

    async def probe() -> None:
        nonlocal worst, worst_cpu
        while not done:
            asked, cpu = time.perf_counter(), time.process_time()
            await asyncio.sleep(0.001)
            waited = time.perf_counter() - asked - 0.001
            if waited > worst:
                worst, worst_cpu = waited, time.process_time() - cpu

    task = asyncio.create_task(probe())
    await asyncio.sleep(0.01)
    began = time.perf_counter()
    result = run()  # type: ignore[operator]
    if asyncio.iscoroutine(result):
        result = await result
    took = time.perf_counter() - began
    done = True
    await task
    began = time.perf_counter()
    del result
    return took, worst, worst_cpu, time.perf_counter() - began


async def main_async(workers: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        backend = filled_backend(workers, Path(tmp))
        print(f"{workers} workers stored in {time.perf_counter() - began:.2f} s")
        ways = {"all at once (publish)": backend.publish}
        if hasattr(backend, "publish_async"):
            ways = {"in chunks (publish_async)": backend.publish_async, **ways}
        for (name, run), collector in itertools.product(ways.items(), ("gc on", "gc off")):
            took, waits, cpus, frees = [], [], [], []
            for _ in range(rounds):
                gc.collect()
                if collector == "gc off":  # how much of the wait is the garbage collector's
                    gc.disable()
                try:
                    spent, waited, cpu, freed = await longest_wait(run)
                finally:
                    gc.enable()
                took.append(spent)
                waits.append(waited)
                cpus.append(cpu)
                frees.append(freed)
            name = f"{name}, {collector}"
            print(
                f"{name:36s} build {statistics.median(took) * 1000:7.0f} ms (median of {rounds})"
                f"  longest loop wait {max(waits) * 1000:6.1f} ms"
                f" (CPU {cpus[waits.index(max(waits))] * 1000:5.1f} ms)"
                f"  per worker {statistics.median(took) / workers * 1e6:5.0f} µs"
                f"  freeing it {statistics.median(frees) * 1000:5.0f} ms"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main_async(args.workers, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
