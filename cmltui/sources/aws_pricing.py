"""The AWS Price List (Pricing) API: one on-demand Linux shared-tenancy price per type and region.

`GetProducts` is filtered down to a single product; its `PriceList` items are JSON documents
(strings on the wire) whose on-demand terms carry the USD price per hour.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cmltui.domain.prices import plausible_price
from cmltui.jsonbounds import small_json

log = logging.getLogger(__name__)

PRICING_REGION = "us-east-1"
"""The Pricing API answers from a few regions only; us-east-1 serves every region's prices."""
MAX_ITEM_CHARS = 200_000
"""A price document larger than this is not a single EC2 product: ignore it."""
MAX_PAGES = 3
MAX_ITEM_DEPTH = 16
"""A price-list item nests about seven levels (terms, term, dimensions, dimension, prices)."""


def product_filters(region: str, instance_type: str) -> list[dict[str, str]]:
    """On-demand, Linux, shared tenancy, no pre-installed software, capacity actually used."""
    wanted = {
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
    }
    return [{"Type": "TERM_MATCH", "Field": key, "Value": value} for key, value in wanted.items()]


def on_demand_usd(item: str | Mapping[str, Any]) -> float | None:
    """The hourly USD price of one price-list item's on-demand terms (None if it has none)."""
    if isinstance(item, str):
        item = small_json(item, max_chars=MAX_ITEM_CHARS, max_depth=MAX_ITEM_DEPTH)
    if not isinstance(item, Mapping):
        return None
    terms = _mapping(_mapping(item.get("terms")).get("OnDemand"))
    for term in terms.values():
        for dimension in _mapping(_mapping(term).get("priceDimensions")).values():
            dimension = _mapping(dimension)
            if str(dimension.get("unit", "")).lower() not in ("hrs", "hours", "hour"):
                continue
            usd = _mapping(dimension.get("pricePerUnit")).get("USD")
            try:
                value = float(usd)
            except (TypeError, ValueError, OverflowError):
                continue
            price = plausible_price(value)
            if price is not None:
                return price
            log.info("price list item with %.40r USD an hour ignored (outside the band)", usd)
    return None


def fetch_on_demand_price(client: Any, region: str, instance_type: str) -> float | None:
    """One product's price through `GetProducts`; None when AWS lists no such product.

    Raises `PricingUnavailable` when the call itself fails (no permission, no network).
    """
    kwargs: dict[str, Any] = {
        "ServiceCode": "AmazonEC2",
        "Filters": product_filters(region, instance_type),
        "FormatVersion": "aws_v1",
        "MaxResults": 10,
    }
    for _page in range(MAX_PAGES):
        try:
            reply = client.get_products(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise PricingUnavailable(_describe(exc)) from exc
        prices = [p for p in map(on_demand_usd, reply.get("PriceList") or []) if p is not None]
        if prices:
            if len(set(prices)) > 1:
                log.info("several prices for %s in %s: %s", instance_type, region, prices)
            return max(prices)  # never understate what a worker costs
        token = reply.get("NextToken")
        if not token:
            return None
        kwargs["NextToken"] = token
    return None


class PricingUnavailable(Exception):
    """The Pricing API could not be asked (permissions, network, throttling)."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {str(error.get('Message', ''))[:200]}"
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
