"""The price book: config over the Pricing API over its week-long cache over the bundled table.

The collector asks `price()` while it maps (a dictionary lookup, never a network call) and tells
`want()` which (region, type) pairs the fleet uses. Pairs nobody can price yet are read from the
Pricing API once each, on a worker thread in a background task, so a slow or refused Pricing API
never slows a collector cycle; the next cycle shows what it found.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cmltui import paths
from cmltui.clock import Clock, SystemClock
from cmltui.config import Config
from cmltui.domain.prices import (
    BUNDLED_PRICES,
    MAX_PRICE,
    MIN_PRICE,
    ConfiguredPrices,
    Price,
    plausible_price,
    table_price,
)
from cmltui.domain.times import parse_time
from cmltui.jsonbounds import loads_bounded
from cmltui.localfile import read_bounded
from cmltui.sources.aws import AwsSource
from cmltui.sources.aws_pricing import PRICING_REGION, fetch_on_demand_price

log = logging.getLogger(__name__)

CACHE_TTL = timedelta(days=7)
RETRY_AFTER = timedelta(hours=1)
"""A pair the API could not price is asked again after this long (not every cycle)."""
MAX_CACHE_BYTES = 1_000_000
MAX_CACHE_ENTRIES = 5_000
MAX_CACHE_DEPTH = 8
"""The cache is an object holding a list of flat objects: three levels, with room to spare."""
CACHE_VERSION = 1

Pair = tuple[str, str]
Fetch = Callable[[str, str], float | None]
"""(region, instance type) -> USD per hour, None when AWS lists no such product; may raise."""


def default_cache_path() -> Path:
    return paths.price_cache_file()


@dataclass(frozen=True)
class CachedPrice:
    per_hour: float
    fetched_at: datetime


@dataclass
class PriceCache:
    """Prices read from the API, on disk for `ttl`; a damaged or huge file counts as empty."""

    path: Path
    ttl: timedelta = CACHE_TTL
    entries: dict[Pair, CachedPrice] = field(default_factory=dict)

    def load(self) -> None:
        """Read the file; anything but a small, well-formed regular file counts as empty."""
        self.entries = {}
        try:
            data = loads_bounded(read_bounded(self.path, MAX_CACHE_BYTES), MAX_CACHE_DEPTH)
        except FileNotFoundError:
            return
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            log.warning("price cache %s unreadable (%s); ignoring it", self.path, reason)
            return
        except ValueError as exc:
            log.warning("price cache %s is not valid JSON (%s); ignoring it", self.path, exc)
            return
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return
        rows = data.get("prices")
        skipped = 0
        for row in rows[:MAX_CACHE_ENTRIES] if isinstance(rows, list) else []:
            entry = _cache_row(row)
            if entry is None:
                skipped += 1
            else:
                self.entries[entry[0]] = entry[1]
        if skipped:
            log.warning(
                "price cache %s: %d entries ignored (a price outside $%g-$%g an hour, a bad "
                "time or a bad shape)",
                self.path,
                skipped,
                MIN_PRICE,
                MAX_PRICE,
            )

    def fresh(self, pair: Pair, now: datetime) -> CachedPrice | None:
        entry = self.entries.get(pair)
        if entry is None or not (now - self.ttl < entry.fetched_at <= now + timedelta(hours=1)):
            return None
        return entry

    def put(self, pair: Pair, per_hour: float, now: datetime) -> None:
        self.entries[pair] = CachedPrice(per_hour, now)

    def save(self) -> None:
        """Write atomically (temp file, then rename), so a crash never leaves half a file."""
        rows = [
            {
                "region": region,
                "instance_type": instance_type,
                "usd_per_hour": entry.per_hour,
                "fetched_at": entry.fetched_at.isoformat(),
            }
            for (region, instance_type), entry in sorted(self.entries.items())
        ][:MAX_CACHE_ENTRIES]
        body = json.dumps({"version": CACHE_VERSION, "prices": rows}, indent=1, allow_nan=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".prices.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot write price cache %s: %s", self.path, exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)


class PriceBook:
    """Config > API (read this run) > cache (under a week old) > bundled table > unknown."""

    def __init__(
        self,
        *,
        configured: ConfiguredPrices | None = None,
        fetch: Fetch | None = None,
        cache: PriceCache | None = None,
        clock: Clock | None = None,
        table: Mapping[str, Mapping[str, float]] = BUNDLED_PRICES,
    ) -> None:
        self.configured = configured or ConfiguredPrices()
        self._fetch = fetch
        self._cache = cache
        self._clock = clock or SystemClock()
        self._table = table
        self._api: dict[Pair, float] = {}
        self._tried: dict[Pair, datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self.fetches = 0  # API reads attempted (tests and logs)
        if cache is not None:
            cache.load()

    def price(self, region: str, instance_type: str) -> Price | None:
        configured = self.configured.get(region, instance_type)
        if configured is not None:
            return Price(configured, "config")
        pair = (region, instance_type)
        if pair in self._api:
            return Price(self._api[pair], "api")
        if self._cache is not None:
            cached = self._cache.fresh(pair, self._clock.now())
            if cached is not None:
                return Price(cached.per_hour, "cache")
        return table_price(self._table, region, instance_type)

    def missing(self, pairs: Iterable[Pair]) -> list[Pair]:
        """Pairs the API should be asked for: not configured, not read, not freshly cached."""
        now = self._clock.now()
        out: list[Pair] = []
        for pair in dict.fromkeys(pairs):
            if self.configured.get(*pair) is not None or pair in self._api:
                continue
            if self._cache is not None and self._cache.fresh(pair, now) is not None:
                continue
            tried = self._tried.get(pair)
            if tried is not None and now - tried < RETRY_AFTER:
                continue
            out.append(pair)
        return out

    def want(self, pairs: Iterable[Pair]) -> None:
        """Start reading what is missing in the background (one task at a time)."""
        if self._fetch is None or (self._task is not None and not self._task.done()):
            return
        missing = self.missing(pairs)
        if not missing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._task = loop.create_task(self.read(missing), name="cmltui-prices")

    async def read(self, pairs: Iterable[Pair]) -> None:
        """Ask the API for each missing pair, one at a time, off the event loop."""
        if self._fetch is None:
            return
        wrote = False
        todo = self.missing(pairs)
        for index, pair in enumerate(todo):
            self._tried[pair] = self._clock.now()
            self.fetches += 1
            try:
                value = await asyncio.to_thread(self._fetch, *pair)
            except Exception as exc:  # any failure leaves the fallbacks in place
                log.warning("Pricing API: %s %s: %s", pair[0], pair[1], exc)
                if "AccessDenied" in str(exc):  # no permission: the other pairs would fail too
                    for later in todo[index + 1 :]:
                        self._tried[later] = self._clock.now()
                    break
                continue
            price = plausible_price(value)
            if price is None:
                log.info("Pricing API lists no usable on-demand price for %s in %s", *pair[::-1])
                continue
            self._api[pair] = price
            if self._cache is not None:
                self._cache.put(pair, price, self._clock.now())
                wrote = True
        if wrote and self._cache is not None:
            await asyncio.to_thread(self._cache.save)

    async def settle(self, timeout: float) -> None:
        """Wait (at most `timeout` s) for a background read, e.g. before a one-shot snapshot."""
        task = self._task
        if task is None or task.done():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), timeout)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None


def _cache_row(row: Any) -> tuple[Pair, CachedPrice] | None:
    if not isinstance(row, dict):
        return None
    region, instance_type = row.get("region"), row.get("instance_type")
    value, fetched = row.get("usd_per_hour"), row.get("fetched_at")
    if not (isinstance(region, str) and isinstance(instance_type, str)):
        return None
    if len(region) > 64 or len(instance_type) > 64 or not isinstance(fetched, str):
        return None
    price = plausible_price(value)
    when = parse_time(fetched)
    if price is None or when is None:
        return None
    return (region, instance_type), CachedPrice(price, when)


def build_price_book(
    config: Config, aws: AwsSource, *, demo: bool, clock: Clock | None = None
) -> PriceBook:
    """The price book `cmltui run` uses; the demo and custom endpoints never ask the API.

    A custom `endpoint_url` serves EC2 (a test server or a private endpoint), not the Pricing
    API, so with one set the book falls back to cache-free config and table prices.
    """
    use_api = config.aws.pricing_api and not demo and not aws.endpoint_url
    if not use_api:
        return PriceBook(configured=config.configured_prices(), clock=clock)

    def fetch(region: str, instance_type: str) -> float | None:
        return fetch_on_demand_price(aws.client("pricing", PRICING_REGION), region, instance_type)

    return PriceBook(
        configured=config.configured_prices(),
        fetch=fetch,
        cache=PriceCache(default_cache_path()),
        clock=clock,
    )
