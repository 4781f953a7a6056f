"""Prices are finite and inside one band ($0.001-$1,000 an hour) whatever their source: the
config, the Pricing API, its cache, the bundled table. Outside it a worker is unpriced (`?`),
and `snapshot --format json` stays strict JSON even with `1e308` in the price cache."""

from __future__ import annotations

import json
import logging
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cmltui.backends.direct.pricing import PriceBook, PriceCache
from cmltui.cli.commands import snapshot_json
from cmltui.clock import ManualClock
from cmltui.config import ConfigError, load_config
from cmltui.domain.prices import (
    BUNDLED_PRICES,
    MAX_PRICE,
    MIN_PRICE,
    ConfiguredPrices,
    StaticPrices,
    plausible_price,
)
from cmltui.sources.aws_pricing import fetch_on_demand_price, on_demand_usd
from tests.backends.direct.sim_core import T0, make_core
from tests.backends.direct.test_pricing import expected_params, price_item

on_the_module_loop = pytest.mark.asyncio(loop_scope="module")

OUTSIDE = [1e308, 1001.0, 0.0009, 0.0, -4.0, math.inf, -math.inf, math.nan]
OUTSIDE_TEXT = ["1e308", "1001", "0.0009", "0", "-4", "inf", "nan", "Infinity", "1" + "0" * 400]


def strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("value", OUTSIDE)
def test_the_band_refuses_what_is_not_a_plausible_price(value):
    assert plausible_price(value) is None


@pytest.mark.parametrize("value", [MIN_PRICE, 0.0116, 3.9641, MAX_PRICE])
def test_the_band_keeps_real_prices(value):
    assert plausible_price(value) == value


def test_the_bundled_table_is_inside_the_band():
    for prices in BUNDLED_PRICES.values():
        assert all(plausible_price(p) == p for p in prices.values())


@pytest.mark.parametrize("value", ["1e308", "1001", "0.0005", "0"])
def test_a_config_price_outside_the_band_is_one_line_naming_the_key(tmp_path, value):
    path = tmp_path / "config.toml"
    path.write_text(f'[prices]\n"m5zn.metal" = {value}\n[prices."eu-west-1"]\n"c5.metal" = 4.0\n')
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), env={})
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "prices.m5zn.metal" in message


@pytest.mark.parametrize("value", OUTSIDE)
def test_configured_prices_made_in_code_are_held_to_the_band_too(value):
    configured = ConfiguredPrices({"m5zn.metal": value}, {"eu-west-1": {"c5.metal": value}})
    static = StaticPrices(configured)
    assert static.price("eu-west-1", "c5.metal") is None
    assert static.price("us-east-1", "m5zn.metal").source == "table"  # the table, not config
    table = {"us-east-1": {"m5zn.metal": value}}
    assert StaticPrices(table=table).price("us-east-1", "m5zn.metal") is None


@pytest.mark.parametrize("usd", OUTSIDE_TEXT)
def test_the_pricing_api_parser_refuses_an_implausible_price(usd):
    assert on_demand_usd(price_item("m5zn.metal", "eu-west-1", usd)) is None
    pricing = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    with Stubber(pricing) as stubber:
        stubber.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [price_item("m5zn.metal", "eu-west-1", usd)]},
            expected_params("eu-west-1", "m5zn.metal"),
        )
        assert fetch_on_demand_price(pricing, "eu-west-1", "m5zn.metal") is None


def test_the_pricing_api_parser_survives_a_deeply_nested_item():
    assert on_demand_usd("[" * 150_000) is None


@on_the_module_loop
@pytest.mark.parametrize("value", OUTSIDE)
async def test_a_fetch_outside_the_band_is_unpriced_and_not_cached(tmp_path, value):
    clock = ManualClock(T0)
    cache = PriceCache(tmp_path / "prices.json")
    prices = PriceBook(fetch=lambda region, itype: value, cache=cache, clock=clock)
    await prices.read([("eu-west-1", "m5zn.metal")])
    assert prices.price("eu-west-1", "m5zn.metal") is None
    assert cache.entries == {} and not (tmp_path / "prices.json").exists()


def cache_file(path: Path, rows: list[tuple[str, str, Any]], fetched: str) -> None:
    body = {
        "version": 1,
        "prices": [
            {"region": r, "instance_type": t, "usd_per_hour": p, "fetched_at": fetched}
            for r, t, p in rows
        ],
    }
    # json.dumps writes 1e308 as 1e+308 (a JSON number); NaN and Infinity are not JSON at all.
    path.write_text(json.dumps(body))


@on_the_module_loop
async def test_a_cached_price_outside_the_band_is_unpriced_with_a_log_line(tmp_path, caplog):
    path = tmp_path / "prices.json"
    cache_file(
        path,
        [("eu-west-1", "m5zn.metal", 1e308), ("eu-west-1", "c5.metal", 4.5)],
        T0.isoformat(),
    )
    with caplog.at_level(logging.WARNING, logger="cmltui.backends.direct.pricing"):
        prices = PriceBook(cache=PriceCache(path), clock=ManualClock(T0))
    assert prices.price("eu-west-1", "m5zn.metal") is None
    assert prices.price("eu-west-1", "c5.metal").per_hour == 4.5
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "1 entries ignored" in lines[0] and "$0.001-$1000" in lines[0]


@on_the_module_loop
async def test_snapshot_json_is_strict_with_1e308_in_the_price_cache(fleet, tmp_path):
    """The real core over the simulated fleet, its price book reading a cache that holds
    1e308 for every instance type the fleet runs, printed as `snapshot --format json` prints."""
    path = tmp_path / "prices.json"
    types = {w.spec.instance_type for w in fleet.workers}
    cache_file(path, [(fleet.region, t, 1e308) for t in types], fleet.clock.now().isoformat())
    core = make_core(fleet, tmp_path)
    core.collector.prices = PriceBook(cache=PriceCache(path), clock=fleet.clock)
    try:
        snapshot = await core.collector.collect()
    finally:
        await core.close()
    data = strict(snapshot_json(snapshot))
    running = [w for w in data["workers"] if w["status"] == "running"]
    assert running and len(data["workers"]) == len(fleet.workers)
    # A type the table prices keeps its table price; the 1e308 from the cache is never used.
    for worker in data["workers"]:
        assert worker["hourly_price"] is None or worker["hourly_price"] <= MAX_PRICE
        assert worker["price_source"] != "cache"
    assert data["fleet"]["burn_per_hour"] < len(running) * MAX_PRICE


@on_the_module_loop
async def test_snapshot_json_stays_strict_when_nothing_prices_the_fleet(fleet, tmp_path):
    path = tmp_path / "prices.json"
    types = {w.spec.instance_type for w in fleet.workers}
    cache_file(path, [(fleet.region, t, 1e308) for t in types], fleet.clock.now().isoformat())
    core = make_core(fleet, tmp_path)
    core.collector.prices = PriceBook(cache=PriceCache(path), clock=fleet.clock, table={})
    try:
        snapshot = await core.collector.collect()
    finally:
        await core.close()
    data = strict(snapshot_json(snapshot))
    running = [w for w in data["workers"] if w["status"] == "running"]
    assert running and all(w["hourly_price"] is None for w in running)
    assert all(w["hourly_cost"] is None for w in running)  # unpriced, shown as ?
    assert data["fleet"]["unpriced"]["running"] == len(running)


def test_cache_rows_with_a_time_at_the_edge_are_skipped(tmp_path):
    path = tmp_path / "prices.json"
    for fetched in ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+05:00", "yesterday"):
        cache_file(path, [("eu-west-1", "c5.metal", 4.5)], fetched)
        cache = PriceCache(path)
        cache.load()
        assert cache.entries == {}, fetched
    cache_file(path, [("eu-west-1", "c5.metal", 4.5)], (T0 - timedelta(days=1)).isoformat())
    cache.load()
    assert list(cache.entries) == [("eu-west-1", "c5.metal")]
