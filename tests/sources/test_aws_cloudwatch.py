"""CloudWatch fallback readings: moto on 127.0.0.1 for the real flow, Stubber for chunking."""

from __future__ import annotations

import math
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from cmltui.clock import ManualClock
from cmltui.sources.aws import AwsReadError, AwsSource
from cmltui.sources.aws_cloudwatch import (
    AgentDimensions,
    MetricValue,
    index_agent_metrics,
    newest_points,
    pick_readings,
    plan_queries,
)

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
REGION = "us-east-1"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def source(moto_url: str, clock: ManualClock) -> AwsSource:
    return AwsSource(regions=[REGION], endpoint_url=moto_url, credentials=CREDS, clock=clock)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def datum(name: str, value: float, minutes_ago: float, **dims: str) -> dict[str, Any]:
    return {
        "MetricName": name,
        "Value": value,
        "Unit": "Percent",
        "Timestamp": ago(minutes_ago),
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
    }


def disk(instance_id: str, path: str, device: str, value: float, minutes_ago: float) -> dict:
    return datum(
        "disk_used_percent",
        value,
        minutes_ago,
        InstanceId=instance_id,
        path=path,
        device=device,
        fstype="ext4",
    )


def seed(source: AwsSource) -> None:
    """i-a: full agent; i-b: agent without `/`; i-c: no agent; i-d: no data at all."""
    cw = source.client("cloudwatch", REGION)
    cw.put_metric_data(
        Namespace="AWS/EC2",
        MetricData=[
            datum("CPUUtilization", 10.0, 12, InstanceId="i-a"),
            datum("CPUUtilization", 42.0, 2, InstanceId="i-a"),
            datum("CPUUtilization", 5.0, 7, InstanceId="i-c"),
            datum("CPUUtilization", 0.0, 3, InstanceId="i-b"),
        ],
    )
    mem = {"InstanceId": "i-a", "InstanceType": "m5zn.metal"}
    # Two puts of the same dimension set: moto lists the metric twice.
    cw.put_metric_data(Namespace="CWAgent", MetricData=[datum("mem_used_percent", 30.0, 8, **mem)])
    cw.put_metric_data(Namespace="CWAgent", MetricData=[datum("mem_used_percent", 55.0, 3, **mem)])
    cw.put_metric_data(
        Namespace="CWAgent",
        MetricData=[
            disk("i-a", "/", "nvme0n1p1", 20.0, 4),
            disk("i-a", "/data", "nvme1n1", 90.0, 4),
            disk("i-b", "/data", "nvme1n1", 70.0, 4),
            disk("i-b", "/scratch", "nvme2n1", 85.0, 4),
        ],
    )


async def test_readings_pick_newest_root_disk_and_none_without_agent(source: AwsSource) -> None:
    seed(source)
    source.calls.reset()

    readings = await source.cloudwatch_readings(REGION, ["i-a", "i-b", "i-c", "i-d"])

    assert set(readings) == {"i-a", "i-b", "i-c", "i-d"}
    a = readings["i-a"]
    assert a.cpu is not None and a.cpu.value == pytest.approx(42.0)
    assert ago(5) <= a.cpu.timestamp <= NOW
    assert a.memory is not None and a.memory.value == pytest.approx(55.0)
    assert a.disk is not None and a.disk.value == pytest.approx(20.0)  # `/` beats fuller /data
    assert a.collected_at == NOW
    b = readings["i-b"]
    assert b.cpu is not None and b.cpu.value == 0.0  # a real 0, not missing
    assert b.memory is None
    assert b.disk is not None and b.disk.value == pytest.approx(85.0)  # no `/`: the fullest
    c = readings["i-c"]
    assert c.cpu is not None and c.cpu.value == pytest.approx(5.0)
    assert c.memory is None and c.disk is None
    d = readings["i-d"]
    assert (d.cpu, d.memory, d.disk) == (None, None, None)

    assert source.calls.count(service="cloudwatch", operation="ListMetrics") == 2
    assert source.calls.count(service="cloudwatch", operation="GetMetricData") == 1
    assert source.calls.count(operation="GetMetricStatistics") == 0
    # cpu x4, i-a memory once (de-duplicated), i-a two disks, i-b two disks.
    assert source.calls.metrics_requested(REGION) == 9


async def test_list_metrics_is_cached_until_its_ttl(source: AwsSource, clock: ManualClock) -> None:
    seed(source)
    await source.cloudwatch_readings(REGION, ["i-a"])
    source.calls.reset()

    clock.advance(300)
    await source.cloudwatch_readings(REGION, ["i-a"])
    assert source.calls.count(operation="ListMetrics") == 0
    assert source.calls.count(operation="GetMetricData") == 1

    clock.advance(3600)
    await source.cloudwatch_readings(REGION, ["i-a"])
    assert source.calls.count(operation="ListMetrics") == 2


async def test_readings_respect_the_look_back(source: AwsSource, clock: ManualClock) -> None:
    seed(source)
    clock.advance(minutes=30)

    readings = await source.cloudwatch_readings(REGION, ["i-a"])

    assert readings["i-a"].cpu is None


async def test_no_instances_no_calls(source: AwsSource) -> None:
    assert await source.cloudwatch_readings(REGION, []) == {}
    assert source.calls.count() == 0


def _agent_metrics(count: int, *extra: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "Namespace": "CWAgent",
            "Dimensions": [
                {"Name": "InstanceId", "Value": f"i-{n}"},
                *({"Name": k, "Value": v} for k, v in extra),
            ],
        }
        for n in range(count)
    ]


async def test_600_queries_go_out_in_two_calls(source: AwsSource) -> None:
    ids = [f"i-{n}" for n in range(200)]
    cw = source.client("cloudwatch", REGION)
    with Stubber(cw) as stub:
        stub.add_response("list_metrics", {"Metrics": _agent_metrics(200)})
        stub.add_response("list_metrics", {"Metrics": _agent_metrics(200, ("path", "/"))})
        # Queries run cpu, memory, disk per instance in order: i-199's disk is q599.
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [{"Id": "q0", "Timestamps": [ago(5)], "Values": [12.5]}]},
        )
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [{"Id": "q599", "Timestamps": [ago(5)], "Values": [61.0]}]},
        )
        readings = await source.cloudwatch_readings(REGION, ids)
        stub.assert_no_pending_responses()

    assert source.calls.count(operation="GetMetricData") == 2
    assert source.calls.metrics_requested() == 600
    assert readings["i-0"].cpu == MetricValue(12.5, ago(5))
    assert readings["i-199"].disk == MetricValue(61.0, ago(5))
    assert readings["i-199"].cpu is None


async def test_cloudwatch_failure_raises_a_read_error(clock: ManualClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = AwsSource(
        regions=[REGION],
        endpoint_url=f"http://127.0.0.1:{port}",
        credentials=CREDS,
        clock=clock,
        max_attempts=1,
    )

    with pytest.raises(AwsReadError) as caught:
        await source.cloudwatch_readings(REGION, ["i-a"])

    assert caught.value.code == "EndpointUnreachable"
    assert str(caught.value).startswith("us-east-1: CloudWatch: cannot reach endpoint")


# -- pure planning and picking --------------------------------------------------------------


def test_index_drops_duplicates_and_metrics_without_instance() -> None:
    dims = [{"Name": "InstanceType", "Value": "c5.metal"}, {"Name": "InstanceId", "Value": "i-1"}]
    index = index_agent_metrics(
        [
            {"Dimensions": dims},
            {"Dimensions": list(reversed(dims))},
            {"Dimensions": [{"Name": "host", "Value": "x"}]},
        ]
    )
    assert index == {"i-1": [(("InstanceId", "i-1"), ("InstanceType", "c5.metal"))]}


def test_plan_has_cpu_for_all_and_agent_sets_where_known() -> None:
    agent = AgentDimensions(
        fetched_at=NOW,
        by_metric={"disk_used_percent": {"i-1": [(("InstanceId", "i-1"), ("path", "/"))]}},
    )
    queries = plan_queries(["i-1", "i-2", "i-1"], agent)
    assert [(q.instance_id, q.kind) for q in queries] == [
        ("i-1", "cpu"),
        ("i-1", "disk"),
        ("i-2", "cpu"),
    ]
    assert len({q.query_id for q in queries}) == 3
    api = queries[1].to_api(300)
    assert api["MetricStat"]["Period"] == 300
    assert api["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "InstanceId", "Value": "i-1"},
        {"Name": "path", "Value": "/"},
    ]


def test_pick_skips_non_finite_and_falls_back_when_root_has_no_data() -> None:
    agent = AgentDimensions(
        fetched_at=NOW,
        by_metric={
            "disk_used_percent": {
                "i-1": [
                    (("InstanceId", "i-1"), ("path", "/")),
                    (("InstanceId", "i-1"), ("path", "/data")),
                ]
            }
        },
    )
    queries = plan_queries(["i-1"], agent)
    points = newest_points(
        [
            {"Id": "q0", "Timestamps": [ago(1), ago(6)], "Values": [math.nan, 33.0]},
            {"Id": "q2", "Timestamps": [ago(2)], "Values": [64.0]},
        ]
    )
    reading = pick_readings(["i-1"], queries, points, NOW)["i-1"]
    assert reading.cpu == MetricValue(33.0, ago(6))
    assert reading.disk == MetricValue(64.0, ago(2))
    assert reading.memory is None
