"""Prices per region: Pricing API (through botocore's Stubber), its cache, the table, config."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cmltui.backends.direct.pricing import CACHE_TTL, RETRY_AFTER, PriceBook, PriceCache
from cmltui.clock import ManualClock
from cmltui.config import Config, ConfigError, load_config
from cmltui.domain.prices import ConfiguredPrices, Price, StaticPrices
from cmltui.sources.aws_pricing import (
    PricingUnavailable,
    fetch_on_demand_price,
    on_demand_usd,
    product_filters,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def price_item(instance_type: str, region: str, usd: str) -> str:
    """One `PriceList` item as the Price List API sends it: a JSON document in a string."""
    sku = "SKU" + instance_type.replace(".", "").upper()
    return json.dumps(
        {
            "product": {
                "productFamily": "Compute Instance",
                "attributes": {
                    "instanceType": instance_type,
                    "regionCode": region,
                    "operatingSystem": "Linux",
                    "tenancy": "Shared",
                    "preInstalledSw": "NA",
                    "capacitystatus": "Used",
                },
                "sku": sku,
            },
            "serviceCode": "AmazonEC2",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "pricePerUnit": {"USD": usd},
                                "description": f"${usd} per On Demand Linux {instance_type}",
                            }
                        },
                        "sku": sku,
                        "offerTermCode": "JRTCKXETXF",
                    }
                },
                "Reserved": {
                    f"{sku}.38NPMPTW36": {
                        "priceDimensions": {
                            f"{sku}.38NPMPTW36.2TG2D8R56U": {
                                "unit": "Quantity",
                                "pricePerUnit": {"USD": "20000"},
                            }
                        }
                    }
                },
            },
            "version": "20261120000000",
            "publicationDate": "2026-11-20T00:00:00Z",
        }
    )


def expected_params(region: str, instance_type: str) -> dict[str, Any]:
    return {
        "ServiceCode": "AmazonEC2",
        "Filters": product_filters(region, instance_type),
        "FormatVersion": "aws_v1",
        "MaxResults": 10,
    }


@pytest.fixture
def pricing() -> Any:
    # No request leaves the process: the Stubber answers before anything is sent.
    return boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def stub_price(stubber: Stubber, region: str, instance_type: str, usd: str) -> None:
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": [price_item(instance_type, region, usd)]},
        expected_params(region, instance_type),
    )


def test_filters_ask_for_on_demand_linux_shared_tenancy_in_one_region():
    fields = {f["Field"]: f["Value"] for f in product_filters("eu-west-1", "m5zn.metal")}
    assert fields["regionCode"] == "eu-west-1"
    assert fields["instanceType"] == "m5zn.metal"
    assert fields["operatingSystem"] == "Linux"
    assert fields["tenancy"] == "Shared"
    assert fields["capacitystatus"] == "Used"


def test_on_demand_price_is_read_and_reserved_terms_ignored(pricing):
    with Stubber(pricing) as stubber:
        stub_price(stubber, "eu-west-1", "m5zn.metal", "4.3640000000")
        assert fetch_on_demand_price(pricing, "eu-west-1", "m5zn.metal") == pytest.approx(4.364)
        stubber.assert_no_pending_responses()
    assert on_demand_usd("not json") is None
    assert (
        on_demand_usd(json.dumps({"terms": {"OnDemand": {"x": {"priceDimensions": {}}}}})) is None
    )


def test_an_empty_price_list_pages_on_then_gives_none(pricing):
    with Stubber(pricing) as stubber:
        stubber.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [], "NextToken": "page2"},
            expected_params("eu-west-1", "x9.odd"),
        )
        stubber.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": []},
            {**expected_params("eu-west-1", "x9.odd"), "NextToken": "page2"},
        )
        assert fetch_on_demand_price(pricing, "eu-west-1", "x9.odd") is None
        stubber.assert_no_pending_responses()


def test_a_refused_call_raises_pricing_unavailable(pricing):
    with Stubber(pricing) as stubber:
        stubber.add_client_error("get_products", "AccessDeniedException", "not allowed", 400)
        with pytest.raises(PricingUnavailable, match="AccessDenied"):
            fetch_on_demand_price(pricing, "eu-west-1", "m5zn.metal")


def book(pricing: Any, clock: ManualClock, cache_path: Path, **kw: Any) -> PriceBook:
    return PriceBook(
        fetch=lambda region, itype: fetch_on_demand_price(pricing, region, itype),
        cache=PriceCache(cache_path),
        clock=clock,
        **kw,
    )


async def test_api_price_is_cached_for_a_week_then_read_again(pricing, tmp_path):
    clock = ManualClock(T0)
    cache_path = tmp_path / "cache" / "prices.json"
    pair = ("eu-west-1", "m5zn.metal")
    with Stubber(pricing) as stubber:
        first = book(pricing, clock, cache_path)
        assert first.price(*pair) is None  # nobody knows eu-west-1 yet: never us-east-1's rate
        stub_price(stubber, *pair, "4.364")
        await first.read([pair])
        stubber.assert_no_pending_responses()
        assert first.price(*pair) == Price(4.364, "api")
        assert first.fetches == 1
        await first.read([pair])  # known now: no second call (the Stubber has none queued)
        assert first.fetches == 1

        # A new process reads the cache file: no API call at all.
        clock.advance(days=6)
        second = book(pricing, clock, cache_path)
        assert second.missing([pair]) == []
        assert second.price(*pair) == Price(4.364, "cache")
        saved = json.loads(cache_path.read_text())
        assert saved["prices"][0]["region"] == "eu-west-1"
        assert saved["prices"][0]["fetched_at"] == T0.isoformat()

        # After a week the entry has expired: the pair is read again, and the cache renewed.
        clock.advance(days=1, seconds=1)
        third = book(pricing, clock, cache_path)
        assert third.price(*pair) is None
        assert third.missing([pair]) == [pair]
        stub_price(stubber, *pair, "4.40")
        await third.read([pair])
        stubber.assert_no_pending_responses()
        assert third.price(*pair) == Price(4.40, "api")
    renewed = json.loads(cache_path.read_text())["prices"][0]
    assert renewed["usd_per_hour"] == 4.40
    assert datetime.fromisoformat(renewed["fetched_at"]) == T0 + timedelta(days=7, seconds=1)
    assert timedelta(days=7) == CACHE_TTL


async def test_fallbacks_api_down_gives_table_in_us_east_1_and_unknown_elsewhere(pricing, tmp_path):
    clock = ManualClock(T0)
    with Stubber(pricing) as stubber:
        prices = book(pricing, clock, tmp_path / "prices.json")
        for _ in range(2):
            stubber.add_client_error("get_products", "ThrottlingException", "slow down", 400)
        pairs = [("us-east-1", "m5zn.metal"), ("eu-north-1", "m5zn.metal")]
        await prices.read(pairs)
        stubber.assert_no_pending_responses()
    assert prices.price("us-east-1", "m5zn.metal") == Price(3.9641, "table")
    assert prices.price("eu-north-1", "m5zn.metal") is None
    assert prices.price("us-east-1", "x9.unknown") is None
    # A failed pair is not asked again every cycle, only after RETRY_AFTER.
    assert prices.missing(pairs) == []
    clock.advance(seconds=RETRY_AFTER.total_seconds())
    assert prices.missing(pairs) == pairs
    assert not (tmp_path / "prices.json").exists()  # nothing learnt, nothing written


def test_a_damaged_or_oversized_cache_reads_as_empty(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text("{not json")
    cache = PriceCache(path)
    cache.load()
    assert cache.entries == {}
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "prices": [
                    {"region": "eu-west-1", "instance_type": "m5zn.metal", "usd_per_hour": "x"},
                    {
                        "region": "eu-west-1",
                        "instance_type": "c5.metal",
                        "usd_per_hour": 4.5,
                        "fetched_at": T0.isoformat(),
                    },
                ],
            }
        )
    )
    cache.load()
    assert list(cache.entries) == [("eu-west-1", "c5.metal")]
    path.write_text(" " * 1_000_001)
    cache.load()
    assert cache.entries == {}


async def test_config_overrides_api_cache_and_table_per_region_or_everywhere(pricing, tmp_path):
    config = Config.model_validate(
        {
            "prices": {
                "c5.metal": 4.0,
                "eu-west-1": {"m5zn.metal": 4.36},
                "us-east-1": {"c5.metal": 3.5},
            }
        }
    )
    clock = ManualClock(T0)
    cache = PriceCache(tmp_path / "prices.json")
    cache.put(("eu-west-1", "m5zn.metal"), 9.99, T0)
    cache.save()
    with Stubber(pricing) as stubber:  # nothing queued: any API call would fail the test
        prices = book(
            pricing, clock, tmp_path / "prices.json", configured=config.configured_prices()
        )
        wanted = [
            ("eu-west-1", "m5zn.metal"),
            ("us-east-1", "c5.metal"),
            ("ap-south-1", "c5.metal"),
        ]
        assert prices.missing(wanted) == []
        await prices.read(wanted)
        stubber.assert_no_pending_responses()
    assert prices.fetches == 0
    assert prices.price("eu-west-1", "m5zn.metal") == Price(4.36, "config")  # over the cache
    assert prices.price("us-east-1", "c5.metal") == Price(3.5, "config")  # region over all
    assert prices.price("ap-south-1", "c5.metal") == Price(4.0, "config")  # every region
    assert prices.price("us-east-1", "m5zn.metal") == Price(3.9641, "table")
    assert prices.price("ap-south-1", "m5zn.metal") is None
    static = config.price_table()
    assert static.price("eu-west-1", "m5zn.metal") == Price(4.36, "config")
    assert static.price("eu-west-1", "c5.metal") == Price(4.0, "config")
    assert StaticPrices().price("eu-west-1", "m5zn.metal") is None


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[prices]\n"m5zn.metal" = -1\n', "prices.m5zn.metal"),
        ('[prices."eu-west-1"]\n"m5zn.metal" = "lots"\n', "prices.eu-west-1"),
    ],
)
def test_a_bad_price_is_one_line_naming_the_key(tmp_path, body, key):
    path = tmp_path / "config.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), env={})
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert key in message


def test_configured_prices_from_toml(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[prices]\n"c5.metal" = 4.0\n[prices."eu-west-1"]\n"m5zn.metal" = 4.36\n')
    configured = load_config(str(path), env={}).configured_prices()
    assert configured == ConfiguredPrices({"c5.metal": 4.0}, {"eu-west-1": {"m5zn.metal": 4.36}})


async def test_want_reads_in_the_background_and_never_blocks_the_caller(tmp_path):
    release = threading.Event()
    calls: list[tuple[str, str]] = []

    def slow_fetch(region: str, instance_type: str) -> float:
        calls.append((region, instance_type))
        release.wait(5)
        return 4.25

    prices = PriceBook(
        fetch=slow_fetch, cache=PriceCache(tmp_path / "p.json"), clock=ManualClock(T0)
    )
    pair = ("eu-west-1", "m5zn.metal")
    prices.want([pair, pair])
    prices.want([pair])  # a second cycle while the first read is still going: no second task
    await asyncio.sleep(0.05)
    assert prices.price(*pair) is None  # the caller went on with what was known
    release.set()
    for _ in range(100):
        if prices.price(*pair) is not None:
            break
        await asyncio.sleep(0.01)
    assert prices.price(*pair) == Price(4.25, "api")
    assert calls == [pair]  # once per type and region
    await prices.close()


async def test_settle_waits_for_a_background_read_but_not_for_ever(tmp_path):
    release = threading.Event()

    def fetch(region: str, instance_type: str) -> float:
        release.wait(5)
        return 4.5

    prices = PriceBook(fetch=fetch, clock=ManualClock(T0))
    pair = ("ap-south-1", "c5.metal")
    prices.want([pair])
    await prices.settle(0.05)  # gives up on time, the read goes on
    assert prices.price(*pair) is None
    release.set()
    await prices.settle(5)
    assert prices.price(*pair) == Price(4.5, "api")
    await prices.close()


async def test_run_wiring_reads_through_the_aws_source_and_caches_in_the_platform_dir(
    tmp_path, monkeypatch
):
    from cmltui.backends.direct.pricing import build_price_book, default_cache_path
    from cmltui.sources.aws import AwsSource

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    aws = AwsSource(
        regions=["eu-west-1"],
        credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
    )
    prices = build_price_book(Config(), aws, demo=False, clock=ManualClock(T0))
    pair = ("eu-west-1", "m5zn.metal")
    with Stubber(aws.client("pricing", "us-east-1")) as stubber:
        stub_price(stubber, *pair, "4.364")
        await prices.read([pair])
        stubber.assert_no_pending_responses()
    assert prices.price(*pair) == Price(4.364, "api")
    assert aws.calls.count(service="pricing", operation="GetProducts") == 1
    assert default_cache_path().is_relative_to(tmp_path / "xdg-cache")
    assert json.loads(default_cache_path().read_text())["prices"][0]["usd_per_hour"] == 4.364

    # The demo, a custom endpoint, or `aws.pricing_api = false` never ask the API.
    off = Config.model_validate({"aws": {"pricing_api": False}})
    for book_ in (
        build_price_book(Config(), aws, demo=True),
        build_price_book(off, aws, demo=False),
        build_price_book(
            Config(),
            AwsSource(regions=["eu-west-1"], endpoint_url="http://127.0.0.1:9"),
            demo=False,
        ),
    ):
        assert book_.missing([pair]) == [pair]
        await book_.read([pair])
        assert book_.fetches == 0 and book_.price(*pair) is None


async def test_access_denied_stops_asking_for_the_other_pairs_until_retry(pricing, tmp_path):
    clock = ManualClock(T0)
    prices = book(pricing, clock, tmp_path / "prices.json")
    pairs = [("eu-west-1", "m5zn.metal"), ("eu-west-1", "c5.metal"), ("us-east-1", "c5.metal")]
    with Stubber(pricing) as stubber:  # one answer queued: a second call would fail the count
        stubber.add_client_error("get_products", "AccessDeniedException", "no pricing:*", 400)
        await prices.read(pairs)
        stubber.assert_no_pending_responses()
    assert prices.fetches == 1
    assert prices.missing(pairs) == []
    assert prices.price("us-east-1", "c5.metal") == Price(4.08, "table")
    clock.advance(seconds=RETRY_AFTER.total_seconds())
    assert prices.missing(pairs) == pairs
