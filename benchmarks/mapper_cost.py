"""What the one mapper costs per worker on the refresh path: `map_worker_to_dto` over a varied
fleet (the dashboard benchmark's fleet, built the tests' way), best and median of N rounds.

    python benchmarks/mapper_cost.py [--workers 1000] [--rounds 25]

Every collector cycle maps every worker once, so this is the part of a cycle that a new DTO
field or a new check in the mapper adds to. Compare two commits in one window by running this
script from each checkout in turn (alternated), never against a figure from another day.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tui_apply import build_fleet  # noqa: E402

from tests.tui.tui_fleet import snapshot  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args()
    workers = build_fleet(args.workers)
    for index, worker in enumerate(workers):
        # The tests' fleet numbers addresses 198.51.100.<10 + index>, which past 245 workers is
        # no IP at all; a real fleet's addresses are valid, so the mapper's error path for a
        # bad address would be measured instead of its usual path.
        address = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"
        worker.public_ip = worker.private_ip = address
        worker.https_endpoint = f"https://{address}"
    snapshot(workers)  # warm caches (prices, address checks) as a running monitor has them
    took = []
    for _ in range(args.rounds):
        gc.collect()
        began = time.perf_counter()
        snapshot(workers)
        took.append(time.perf_counter() - began)
    best, median = min(took), statistics.median(took)
    print(
        f"map_worker_to_dto, {args.workers} workers: best {best * 1000:.1f} ms, "
        f"median {median * 1000:.1f} ms ({median / args.workers * 1e6:.1f} µs per worker, "
        f"{args.rounds} rounds)"
    )


if __name__ == "__main__":
    main()
