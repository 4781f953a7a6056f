"""Prices per region and where each came from: config, the Pricing API, its cache, the table.

Pure lookups only (no I/O): `StaticPrices` layers the `[prices]` config over the bundled table.
`cmltui.backends.direct.pricing.PriceBook` adds the Pricing API and its on-disk cache between
the two.
A type in a region nobody priced has no price: it is never charged at another region's rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from cmltui.domain.sanitize import finite_number

PriceSource = Literal["api", "cache", "table", "config"]

TABLE_REGION = "us-east-1"
"""The region the bundled table was read for; it prices no other region."""

MIN_PRICE = 0.001
MAX_PRICE = 1000.0
"""The band of plausible on-demand prices, USD per hour. EC2's cheapest instance costs a few
tenths of a cent and its largest a few hundred dollars: anything outside the band, from any
source, is a mistake or a forgery and counts as no price (unpriced, `?`)."""


def plausible_price(value: object) -> float | None:
    """`value` as a price per hour when it is a finite number inside the band, else None."""
    number = finite_number(value)
    return number if number is not None and MIN_PRICE <= number <= MAX_PRICE else None


BUNDLED_PRICES: Mapping[str, Mapping[str, float]] = {
    TABLE_REGION: {
        # On-demand USD per hour, Linux, shared tenancy, us-east-1.
        "m5zn.metal": 3.9641,
        "m5zn.12xlarge": 3.9641,
        "m5zn.6xlarge": 1.982,
        "c5.metal": 4.08,
        "c5.24xlarge": 4.08,
        "c5.18xlarge": 3.06,
        "c5.9xlarge": 1.53,
        "c5n.metal": 3.888,
        "c5n.18xlarge": 3.888,
        "m5.metal": 4.608,
        "m5.24xlarge": 4.608,
        "m5.12xlarge": 2.304,
        "m5.8xlarge": 1.536,
        "m5.4xlarge": 0.768,
        "m5.2xlarge": 0.384,
        "m6i.metal": 6.144,
        "m7i.metal-24xl": 4.8384,
        "c6i.metal": 5.44,
        "r5.metal": 6.048,
        "z1d.metal": 4.464,
        "i3.metal": 4.992,
    }
}


@dataclass(frozen=True, slots=True)
class Price:
    """An on-demand hourly price in USD and where it came from."""

    per_hour: float
    source: PriceSource


class PriceLookup(Protocol):
    """What the mapper asks: the price of a type in a region, or None when nobody knows it."""

    def price(self, region: str, instance_type: str) -> Price | None: ...

    def want(self, pairs: Iterable[tuple[str, str]]) -> None:
        """The (region, type) pairs the fleet uses now; a lookup may start reading them."""


@dataclass(frozen=True)
class ConfiguredPrices:
    """The `[prices]` table: a type for every region, or a `[prices."region"]` sub-table."""

    everywhere: Mapping[str, float] = field(default_factory=dict)
    by_region: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, raw: Mapping[str, float | Mapping[str, float]]) -> ConfiguredPrices:
        everywhere: dict[str, float] = {}
        by_region: dict[str, dict[str, float]] = {}
        for key, value in raw.items():
            if isinstance(value, Mapping):
                by_region[key] = dict(value)
            else:
                everywhere[key] = float(value)
        return cls(everywhere, by_region)

    def get(self, region: str, instance_type: str) -> float | None:
        """The configured price, inside the band (the config refuses others when it loads)."""
        regional = self.by_region.get(region, {})
        if instance_type in regional:
            return plausible_price(regional[instance_type])
        return plausible_price(self.everywhere.get(instance_type))


def table_price(
    table: Mapping[str, Mapping[str, float]], region: str, instance_type: str
) -> Price | None:
    """The bundled table's price for the pair, if it has one inside the band."""
    tabled = plausible_price(table.get(region, {}).get(instance_type))
    return Price(tabled, "table") if tabled is not None else None


@dataclass(frozen=True)
class StaticPrices:
    """Config over the bundled table; no AWS. The demo and tests use this directly."""

    configured: ConfiguredPrices = field(default_factory=ConfiguredPrices)
    table: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: BUNDLED_PRICES)

    def price(self, region: str, instance_type: str) -> Price | None:
        configured = self.configured.get(region, instance_type)
        if configured is not None:
            return Price(configured, "config")
        return table_price(self.table, region, instance_type)

    def want(self, pairs: Iterable[tuple[str, str]]) -> None:
        return None


def price_of(prices: PriceLookup, region: str, instance_type: str | None) -> Price | None:
    """A worker's price, or None when its type is unknown or nobody priced it there."""
    return prices.price(region, instance_type) if instance_type else None


def hourly_cost(running: bool, price: Price | None) -> float | None:
    """Burn now: a worker that is not running costs nothing per hour (its volumes are not
    counted); a running one its price, or None when unpriced (never a guess)."""
    if not running:
        return 0.0
    return price.per_hour if price else None
