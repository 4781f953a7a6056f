"""Cost of one collector cycle for 10, 100 and 1000 simulated workers.

Run: python benchmarks/collector_cycle.py [--sizes 10,100,1000] [--cycles 5] [--quick]

The simulator (`cmltui simulate`: moto + the CML HTTPS simulator) runs in a separate process,
so `time.process_time()` in this process is the collector's own CPU: boto3 parsing, aiohttp,
pydantic, registry updates and mapping together. Both sides use the real SystemClock.

Per size: one cold cycle (logins, AMI names, labs/licensing/users, CloudWatch for workers whose
CML is down), more warm-up cycles, then `--cycles` steady cycles (medians reported). The core is
built with `intervals.cloudwatch = 60` (its minimum) so that a warm CloudWatch cycle can be
observed within a minute: cycles are classified by whether they sent GetMetricData, and if no
steady cycle was one, the benchmark waits until the interval has passed and runs one more.

`AwsSource.list_fleet` and `AwsSource.cloudwatch_readings` are wrapped on the instance (core
code is untouched) to time the AWS part of the cycle separately: with moto, its wall time is
mostly moto building XML in the other process, which real AWS would not charge to us.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simproc import SimInfo, SimProcess

from cmltui.audit import AuditLog
from cmltui.backends.direct.demo import demo_config
from cmltui.backends.direct.wiring import Core, Endpoints, build_core
from cmltui.clock import SystemClock
from cmltui.config import Config

T = TypeVar("T")
CW_INTERVAL_S = 60.0  # the config minimum; the default is 300


@dataclass
class PhaseTimer:
    """Wall and process-CPU time spent inside one wrapped coroutine method during a cycle."""

    wall: float = 0.0
    cpu: float = 0.0
    gc: float = 0.0  # garbage collection that ran meanwhile (included in cpu)
    ids: int = 0  # for CloudWatch: instance ids asked for

    def reset(self) -> None:
        self.wall = self.cpu = self.gc = 0.0
        self.ids = 0


def _timed(
    fn: Callable[..., Awaitable[T]], timer: PhaseTimer, gc_meter: GcMeter
) -> Callable[..., Awaitable[T]]:
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        wall, cpu, in_gc = time.perf_counter(), time.process_time(), gc_meter.seconds
        try:
            return await fn(*args, **kwargs)
        finally:
            timer.wall += time.perf_counter() - wall
            timer.cpu += time.process_time() - cpu
            timer.gc += gc_meter.seconds - in_gc
            if len(args) >= 2 and isinstance(args[1], list):
                timer.ids += len(args[1])

    return wrapper


def _open_fds() -> int | None:
    """File descriptors this process holds (Linux): mostly pooled CML connections."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


class GcMeter:
    """Time spent in the cyclic garbage collector (it runs holding the GIL, so wall ≈ CPU)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections: Counter[int] = Counter()
        self._started: float | None = None
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1
            self._started = None

    def reset(self) -> None:
        self.seconds = 0.0
        self.collections.clear()

    def close(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs submitted work at once in the calling thread, so that cProfile sees boto3 too.

    Only for the profiled cycle: it serialises what `asyncio.to_thread` would overlap.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Any:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting coroutine
            future.set_exception(exc)
        return future


@dataclass
class Cycle:
    """What one collector cycle cost and did."""

    wall: float
    cpu: float
    listing_wall: float
    listing_cpu: float
    cw_wall: float
    cw_workers: int
    aws_ops: Counter[str]
    metrics: int
    cml_requests: int
    cml_logins: int
    workers: int
    running: int
    cml_errors: int
    gc_seconds: float = 0.0
    gc_full: int = 0  # generation-2 collections in the cycle
    listing_gc: float = 0.0
    fds: int | None = None

    @property
    def is_cloudwatch(self) -> bool:
        return self.aws_ops.get("GetMetricData", 0) > 0

    @property
    def rest_wall(self) -> float:
        return self.wall - self.listing_wall

    @property
    def cpu_no_gc(self) -> float:
        return self.cpu - self.gc_seconds

    @property
    def listing_cpu_no_gc(self) -> float:
        return self.listing_cpu - self.listing_gc

    @property
    def rest_cpu_no_gc(self) -> float:
        """CPU outside the boto3 listing and outside GC: CML client, pydantic, mapping."""
        return self.cpu_no_gc - self.listing_cpu_no_gc


@dataclass
class SizeResult:
    size: int
    sim_startup_s: float
    cold: Cycle
    steady: list[Cycle] = field(default_factory=list)
    cloudwatch: Cycle | None = None
    cloudwatch_note: str = ""
    profile_text: str = ""
    gc_frozen: bool = False

    @property
    def label(self) -> str:
        return f"{self.size}{' (gc.freeze)' if self.gc_frozen else ''}"

    def median(self, attr: str) -> float:
        return statistics.median(getattr(c, attr) for c in self.steady)

    def mean(self, attr: str) -> float:
        return statistics.fmean(getattr(c, attr) for c in self.steady)

    def requests_per_reachable(self) -> float:
        """CML requests per reachable worker (running, CML not in error), averaged over cycles."""
        return statistics.fmean(
            c.cml_requests / max(1, c.running - c.cml_errors) for c in self.steady
        )


class Bench:
    """One Core pointed at one simulator process, instrumented per cycle."""

    def __init__(self, info: SimInfo, workdir: Path, cycle_timeout: float) -> None:
        data = demo_config(Config(), info.region).model_dump()
        data["intervals"]["cloudwatch"] = CW_INTERVAL_S
        endpoints = Endpoints(
            aws_endpoint_url=info.aws_endpoint_url,
            aws_credentials=info.aws_credentials,
            cml_password=info.cml_password,
            cml_ca_bundle=info.ca_file,
            demo=True,
        )
        self.core: Core = build_core(
            Config.model_validate(data),
            endpoints,
            SystemClock(),
            audit=AuditLog(workdir / "audit.jsonl"),
            operator="bench",
        )
        self.cycle_timeout = cycle_timeout
        self.listing = PhaseTimer()
        self.cw = PhaseTimer()
        self.gc = GcMeter()
        aws = self.core.aws
        aws.list_fleet = _timed(  # type: ignore[method-assign]
            aws.list_fleet, self.listing, self.gc
        )
        aws.cloudwatch_readings = _timed(  # type: ignore[method-assign]
            aws.cloudwatch_readings, self.cw, self.gc
        )
        self.last_cw_at: float | None = None

    async def cycle(self, profiler: cProfile.Profile | None = None) -> Cycle:
        core = self.core
        core.aws.calls.reset()
        self.listing.reset()
        self.cw.reset()
        self.gc.reset()
        requests, logins = core.cml.stats.requests, core.cml.stats.logins
        started = time.perf_counter()
        wall, cpu = started, time.process_time()
        if profiler is not None:
            profiler.enable()
        try:
            snapshot = await asyncio.wait_for(core.collector.collect(), self.cycle_timeout)
        finally:
            if profiler is not None:
                profiler.disable()
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        ops: Counter[str] = Counter()
        for (_region, _service, op), n in core.aws.calls.snapshot().items():
            ops[op] += n
        result = Cycle(
            wall=wall,
            cpu=cpu,
            listing_wall=self.listing.wall,
            listing_cpu=self.listing.cpu,
            cw_wall=self.cw.wall,
            cw_workers=self.cw.ids,
            aws_ops=ops,
            metrics=core.aws.calls.metrics_requested(),
            cml_requests=core.cml.stats.requests - requests,
            cml_logins=core.cml.stats.logins - logins,
            workers=len(snapshot.workers),
            running=sum(1 for w in snapshot.workers if str(w.status) == "running"),
            cml_errors=sum(
                1
                for w in snapshot.workers
                if str(w.status) == "running" and str(w.service_status) == "error"
            ),
            gc_seconds=self.gc.seconds,
            gc_full=self.gc.collections[2],
            listing_gc=self.listing.gc,
            fds=_open_fds(),
        )
        if result.is_cloudwatch:
            self.last_cw_at = started
        return result


async def bench_size(args: argparse.Namespace, size: int, profile: bool) -> SizeResult:
    log = _progress
    log(f"[{size}] starting simulator process ...")
    sim = SimProcess(size, seed=args.seed, start_timeout=args.start_timeout)
    try:
        async with sim:
            log(f"[{size}] simulator pid {sim.pid} ready in {sim.startup_s:.1f} s")
            with tempfile.TemporaryDirectory(prefix="cmltui-bench-") as tmp:
                bench = Bench(sim.info, Path(tmp), args.cycle_timeout)
                try:
                    return await _run_cycles(args, bench, size, sim.startup_s, profile)
                finally:
                    bench.gc.close()
                    gc.unfreeze()
                    await bench.core.close()
                    log(f"[{size}] stopping simulator ...")
    finally:
        left = sim.leftover_dir()
        log(
            f"[{size}] simulator exited with {sim.returncode}"
            + (f"; it left {left} behind" if left else "; temp dir removed")
        )


async def _run_cycles(
    args: argparse.Namespace, bench: Bench, size: int, startup_s: float, profile: bool
) -> SizeResult:
    log = _progress
    cold = await bench.cycle()
    log(f"[{size}] cold cycle {cold.wall:.2f} s wall, {cold.cpu:.2f} s CPU, {dict(cold.aws_ops)}")
    result = SizeResult(size=size, sim_startup_s=startup_s, cold=cold)
    for _ in range(max(0, args.warmup - 1)):
        await asyncio.sleep(args.pause)
        warm = await bench.cycle()
        log(f"[{size}] warm-up cycle {warm.wall:.2f} s, {warm.cml_logins} logins")
    if args.gc_freeze:
        gc.collect()
        gc.freeze()  # what the app could do once warm: long-lived objects leave the GC's scans
        result.gc_frozen = True
    last_wall = 0.0
    for i in range(args.cycles):
        await asyncio.sleep(_gap(args, last_wall))
        sample = await bench.cycle()
        last_wall = sample.wall
        kind = "CloudWatch" if sample.is_cloudwatch else "steady"
        log(f"[{size}] {kind} cycle {i + 1}: {sample.wall:.2f} s wall, {sample.cpu:.3f} s CPU")
        if sample.is_cloudwatch:
            result.cloudwatch = result.cloudwatch or sample
            result.cloudwatch_note = "a measured cycle came due for CloudWatch by itself"
        else:
            result.steady.append(sample)
    if result.cloudwatch is None and args.cloudwatch_cycle:
        since = time.perf_counter() - (bench.last_cw_at or time.perf_counter())
        wait = max(0.0, CW_INTERVAL_S - since + 1.0)
        log(f"[{size}] waiting {wait:.0f} s for the CloudWatch interval ({CW_INTERVAL_S:.0f} s)")
        await asyncio.sleep(wait)
        sample = await bench.cycle()
        if sample.is_cloudwatch:
            result.cloudwatch = sample
            result.cloudwatch_note = f"one extra cycle {CW_INTERVAL_S:.0f} s after the last one"
        else:
            result.cloudwatch_note = "no CloudWatch request even after the interval"
            result.steady.append(sample)
    if not result.steady:
        raise RuntimeError(f"no steady (non-CloudWatch) cycle measured at {size} workers")
    if profile:
        result.profile_text = await _profile_cycle(args, bench, size)
    return result


def _gap(args: argparse.Namespace, last_wall: float) -> float:
    """Seconds to wait before the next steady cycle."""
    if args.interval is None:
        return float(args.pause)
    return max(0.0, args.interval - last_wall)


async def _profile_cycle(args: argparse.Namespace, bench: Bench, size: int) -> str:
    """cProfile one more cycle, with boto3's thread work pulled onto the profiled thread."""
    await asyncio.sleep(args.pause)
    loop = asyncio.get_running_loop()
    loop.set_default_executor(_InlineExecutor(max_workers=1))
    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the simulator
    try:
        sample = await bench.cycle(profiler)
    finally:
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor())
    kind = "CloudWatch" if sample.is_cloudwatch else "steady"
    by_own, by_cum = io.StringIO(), io.StringIO()
    pstats.Stats(profiler, stream=by_own).sort_stats("tottime").print_stats(args.profile_top)
    pstats.Stats(profiler, stream=by_cum).sort_stats("cumulative").print_stats(
        "cmltui", args.profile_top
    )
    return (
        f"cProfile of one {kind} cycle at {size} workers ({sample.wall:.2f} s wall, "
        f"{sample.cpu:.2f} s CPU with the profiler on; times are CPU; boto3 run inline "
        "on the loop thread)\n"
        f"-- top {args.profile_top} by own time --\n{_trim_profile(by_own.getvalue())}\n"
        f"-- cmltui functions by cumulative time --\n{_trim_profile(by_cum.getvalue())}"
    )


def _trim_profile(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line.rstrip() for line in lines[start:] if line.strip())


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----- report ----------------------------------------------------------------------------------


def _ops(ops: Counter[str]) -> str:
    short = {
        "DescribeInstances": "DescribeInstances",
        "DescribeInstanceStatus": "DescribeInstanceStatus",
    }
    parts = [f"{short.get(op, op)} {n}" for op, n in sorted(ops.items())]
    return f"{sum(ops.values())} ({', '.join(parts)})" if parts else "0"


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:,.0f} ms"


def render(results: list[SizeResult], args: argparse.Namespace) -> str:
    out: list[str] = [
        f"Steady cycles: median of {args.cycles} (after {args.warmup} warm-up cycles, the first "
        f"cold); `intervals.cloudwatch` = {CW_INTERVAL_S:.0f} s; cycles back to back with a "
        + (
            f"{args.pause:g} s pause."
            if args.interval is None
            else f"cycles starting {args.interval:g} s apart."
        )
        + " CPU is this process's (the simulator runs in another).",
        "",
        "| workers | running | cycle wall | AWS listing wall (moto-dominated) | rest of cycle wall "
        "| collector CPU | of which GC (full GCs) | of which boto3 listing, excl. GC "
        "| CPU per running worker | same, excl. GC | mean CPU per running worker "
        "| CML requests | per reachable worker (mean) | CML logins | open fds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        running = max(r.steady[0].running, 1)
        out.append(
            f"| {r.label} | {r.steady[0].running} | {_ms(r.median('wall'))} "
            f"| {_ms(r.median('listing_wall'))} | {_ms(r.median('rest_wall'))} "
            f"| {_ms(r.median('cpu'))} | {_ms(r.median('gc_seconds'))} ({r.median('gc_full'):g}) "
            f"| {_ms(r.median('listing_cpu_no_gc'))} "
            f"| {1000 * r.median('cpu') / running:.2f} ms "
            f"| {1000 * r.median('cpu_no_gc') / running:.2f} ms "
            f"| {1000 * r.mean('cpu') / running:.2f} ms "
            f"| {r.median('cml_requests'):.0f} | {r.requests_per_reachable():.2f} "
            f"| {r.median('cml_logins'):.0f} "
            f"| {r.steady[-1].fds if r.steady[-1].fds is not None else '-'} |"
        )
    out += [
        "",
        "| workers | AWS calls, steady cycle | AWS calls, warm CloudWatch cycle "
        "| metrics requested | workers on CloudWatch fallback | CloudWatch part wall "
        "| cold first cycle |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        varying = {tuple(sorted(c.aws_ops.items())) for c in r.steady}
        steady_txt = _ops(r.steady[-1].aws_ops) + ("" if len(varying) == 1 else " (varied)")
        cw = r.cloudwatch
        if cw is not None:
            share = f"{cw.cw_workers} of {cw.running} ({100 * cw.cw_workers / cw.running:.1f}%)"
            cw_cells = f"{_ops(cw.aws_ops)} | {cw.metrics} | {share} | {_ms(cw.cw_wall)}"
        else:
            cw_cells = "not measured | - | - | -"
        cold = r.cold
        cold_txt = (
            f"{_ms(cold.wall)} wall, {_ms(cold.cpu)} CPU, {cold.cml_logins} logins, "
            f"{cold.cml_requests} CML requests, AWS {_ops(cold.aws_ops)}, "
            f"{cold.metrics} metrics for {cold.cw_workers} workers"
        )
        out.append(f"| {r.label} | {steady_txt} | {cw_cells} | {cold_txt} |")
    out.append("")
    by_size = {r.size: r for r in results if not r.gc_frozen}
    pairs = [(a, b) for a, b in ((10, 100), (100, 1000)) if a in by_size and b in by_size]
    if pairs:
        out += [
            "| growth | workers | cycle wall | rest of cycle wall | collector CPU "
            "| CPU excl. GC | CPU excl. GC and boto3 listing |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for a, b in pairs:
            ra, rb = by_size[a], by_size[b]
            cells = " | ".join(
                f"×{rb.median(attr) / max(ra.median(attr), 1e-9):.1f}"
                for attr in ("wall", "rest_wall", "cpu", "cpu_no_gc", "rest_cpu_no_gc")
            )
            out.append(f"| {a} → {b} | ×{b / a:.0f} | {cells} |")
        out.append("")
    out.append(
        "Simulator start-up (separate process): "
        + ", ".join(f"{r.size} workers {r.sim_startup_s:.1f} s" for r in results)
        + "."
    )
    for r in results:
        notes = [f"{r.steady[0].cml_errors} running workers have CML in error (the mix's `down`"]
        notes[0] += " role, 1 in 12 of the fleet) and need the CloudWatch fallback"
        if r.cloudwatch_note:
            notes.append(f"CloudWatch cycle: {r.cloudwatch_note}")
        out.append(f"At {r.label}: " + "; ".join(notes) + ".")
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated fleet sizes (default 10,100,1000)")
    parser.add_argument("--cycles", type=int, help="steady cycles per size (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up cycles (incl. the cold)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between cycles")
    parser.add_argument(
        "--interval",
        type=float,
        help="steady cycles start this many seconds apart (as the app's timer does), so that "
        "slow-cadence reads come due as they would; default: back to back with --pause",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small run: sizes 10,100 and 3 cycles unless given, no CloudWatch wait",
    )
    parser.add_argument(
        "--no-cloudwatch-cycle",
        dest="cloudwatch_cycle",
        action="store_false",
        help="do not wait for a warm CloudWatch cycle",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one cycle at the largest size"
    )
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="experiment: gc.collect(); gc.freeze() after the warm-up cycles",
    )
    parser.add_argument("--start-timeout", type=float, default=600.0)
    parser.add_argument("--cycle-timeout", type=float, default=180.0)
    parser.add_argument("--budget", type=float, default=1800.0, help="seconds for the whole run")
    args = parser.parse_args(argv)
    if args.quick:
        args.cloudwatch_cycle = False
    args.sizes = args.sizes or ("10,100" if args.quick else "10,100,1000")
    args.cycles = args.cycles or (3 if args.quick else 5)
    args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.cycles < 1 or not args.size_list:
        parser.error("need at least one size and one cycle")
    return args


async def run(args: argparse.Namespace) -> list[SizeResult]:
    results = []
    deadline = time.monotonic() + args.budget
    largest = max(args.size_list)
    for size in args.size_list:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _progress(f"budget spent: skipping {size}")
            continue
        try:
            results.append(
                await asyncio.wait_for(
                    bench_size(args, size, args.profile and size == largest), remaining
                )
            )
        except TimeoutError:
            _progress(f"[{size}] out of time budget; stopped")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = asyncio.run(run(args))
    if not results:
        return 1
    print(render(results, args))
    for r in results:
        if r.profile_text:
            print()
            print(r.profile_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
