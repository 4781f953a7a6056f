"""Where the CPU of one CML request goes: aiohttp and TLS, JSON, pydantic, normalising.

Run: python benchmarks/cml_request_cost.py [--requests 2000]

The simulator runs in its own process (`cmltui simulate --workers 12`), so the CPU measured
here (`time.process_time()`) is the client's alone. One worker's `/system_stats` is fetched
`--requests` times over one kept-alive HTTPS connection, sequentially:

- *transport*: aiohttp `session.get` + `read()` with the Bearer token (HTTP, TLS, the event
  loop), no parsing;
- *json.loads*, then *pydantic from a dict* (what the client did before: `json.loads` +
  `model_validate`), *pydantic from bytes* (`model_validate_json`, what it does now: only the
  declared fields are built), *normalise* (`cml_system_info`, once per distinct body), and the
  *unchanged-body check* (bytes compared with the last body: an unchanged body reuses its
  model);
- *client, all in*: `CMLClient.fetch_cycle(..., stats only)` as the collector calls it.

Per-request figures are medians of 5 rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simproc import SimProcess

from cmltui.audit import AuditLog
from cmltui.backends.direct.demo import demo_config
from cmltui.backends.direct.wiring import Endpoints, build_core
from cmltui.clock import SystemClock
from cmltui.config import Config
from cmltui.sources.cml_models import SystemStats

ROUNDS = 5


def cpu_per_call(call: Callable[[], object], n: int) -> float:
    """Median CPU microseconds per call over ROUNDS rounds of n calls."""
    samples = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(n):
            call()
        samples.append((time.process_time() - started) / n * 1e6)
    return statistics.median(samples)


async def cpu_per_await(call: Callable[[], Awaitable[object]], n: int) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(n):
            await call()
        samples.append((time.process_time() - started) / n * 1e6)
    return statistics.median(samples)


async def measure(n: int) -> list[tuple[str, float]]:
    async with SimProcess(12) as sim:
        info = sim.info
        data = demo_config(Config(), info.region).model_dump()
        endpoints = Endpoints(
            aws_endpoint_url=info.aws_endpoint_url,
            aws_credentials=info.aws_credentials,
            cml_password=info.cml_password,
            cml_ca_bundle=info.ca_file,
            demo=True,
        )
        with tempfile.TemporaryDirectory(prefix="cmltui-req-") as tmp:
            core = build_core(
                Config.model_validate(data),
                endpoints,
                SystemClock(),
                audit=AuditLog(Path(tmp) / "audit.jsonl"),
                operator="bench",
            )
            try:
                snapshot = await core.collector.collect()
                busy = next(w for w in snapshot.workers if w.name.startswith("cml-busy"))
                target = core.collector.target_for(busy.id)
                assert target is not None
                client = core.cml

                async def stats_only() -> object:
                    return await client.fetch_cycle(
                        target,
                        want_stats=True,
                        want_system_information=False,
                        want_health=False,
                        want_lab_ids=False,
                        want_labs=False,
                        want_licensing=False,
                        want_users=False,
                    )

                await stats_only()  # the token is cached from here on
                token = next(a.token for a in client._auth.values() if a.token)
                session = client._get_session()
                url = target.url("/system_stats")
                headers = {"Authorization": f"Bearer {token}"}

                async def transport() -> bytes:
                    async with session.get(url, headers=headers) as response:
                        return await response.read()

                body = await transport()
                copy = bytes(body)
                all_in = await cpu_per_await(stats_only, n)
                raw = await cpu_per_await(transport, n)
            finally:
                await core.close()
    parse_bytes = cpu_per_call(lambda: SystemStats.model_validate_json(body), n)
    parse_and_normalise = cpu_per_call(
        lambda: SystemStats.model_validate_json(body).normalised(), n
    )
    figures = [
        ("client, all in (fetch_cycle, stats only)", all_in),
        ("transport: aiohttp get + read, TLS, event loop", raw),
        ("json.loads", cpu_per_call(lambda: json.loads(body), n)),
        (
            "pydantic from a dict (json.loads + model_validate; before)",
            cpu_per_call(lambda: SystemStats.model_validate(json.loads(body)), n),
        ),
        ("pydantic from bytes (model_validate_json; now)", parse_bytes),
        ("normalise (once per distinct body)", parse_and_normalise - parse_bytes),
        ("unchanged-body check (bytes ==)", cpu_per_call(lambda: copy == body, n)),
    ]
    print(f"/system_stats body: {len(body)} bytes", file=sys.stderr)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.requests))
    print("| part | CPU per request |")
    print("|---|---:|")
    for label, micros in figures:
        print(f"| {label} | {micros:.0f} µs |")


if __name__ == "__main__":
    main()
