"""CloudWatch fallback readings: plan GetMetricData queries and pick the values (pure logic).

CloudWatch is billed per metric requested, so this module keeps the query plan minimal and
explicit: one CPU query per instance plus one query per CWAgent dimension set that ListMetrics
found for that instance. The AWS calls themselves live in `cmltui.sources.aws`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cmltui.clock import ensure_utc

#: One metric's dimension set, sorted by name so equal sets compare equal.
DimSet = tuple[tuple[str, str], ...]
MetricKind = Literal["cpu", "memory", "disk"]

EC2_NAMESPACE = "AWS/EC2"
CPU_METRIC = "CPUUtilization"
AGENT_NAMESPACE = "CWAgent"
MEMORY_METRIC = "mem_used_percent"
DISK_METRIC = "disk_used_percent"
AGENT_METRICS: tuple[str, ...] = (MEMORY_METRIC, DISK_METRIC)
#: GetMetricData accepts at most 500 queries per call.
MAX_QUERIES_PER_CALL = 500
ROOT_PATH = "/"


@dataclass(frozen=True)
class MetricValue:
    """One datapoint: the value and the datapoint's own timestamp (UTC)."""

    value: float
    timestamp: datetime


@dataclass(frozen=True)
class CloudWatchReading:
    """The newest CloudWatch values for one instance; None where CloudWatch had nothing."""

    instance_id: str
    cpu: MetricValue | None
    memory: MetricValue | None
    disk: MetricValue | None
    collected_at: datetime


@dataclass
class AgentDimensions:
    """CWAgent dimension sets per instance id, as found by ListMetrics in one region."""

    fetched_at: datetime
    by_metric: dict[str, dict[str, list[DimSet]]] = field(default_factory=dict)

    def dimsets(self, metric_name: str, instance_id: str) -> list[DimSet]:
        return self.by_metric.get(metric_name, {}).get(instance_id, [])


@dataclass(frozen=True)
class MetricQuery:
    """One planned GetMetricData MetricStat query."""

    query_id: str
    instance_id: str
    kind: MetricKind
    namespace: str
    metric_name: str
    dims: DimSet

    def to_api(self, period: int, stat: str = "Average") -> dict[str, Any]:
        return {
            "Id": self.query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric_name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in self.dims],
                },
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }


def dimset_of(dimensions: Iterable[Mapping[str, str]]) -> DimSet:
    """Canonical, hashable form of an API dimension list."""
    return tuple(sorted((d["Name"], d["Value"]) for d in dimensions))


def index_agent_metrics(metrics: Iterable[Mapping[str, Any]]) -> dict[str, list[DimSet]]:
    """Group ListMetrics results by InstanceId, dropping duplicates (moto repeats them per put)."""
    index: dict[str, list[DimSet]] = {}
    for metric in metrics:
        dims = dimset_of(metric.get("Dimensions", []))
        instance_id = dict(dims).get("InstanceId")
        if instance_id is None:
            continue
        known = index.setdefault(instance_id, [])
        if dims not in known:
            known.append(dims)
    return index


def plan_queries(instance_ids: Sequence[str], agent: AgentDimensions | None) -> list[MetricQuery]:
    """CPU for every instance, plus every CWAgent memory and disk dimension set it reports."""
    queries: list[MetricQuery] = []

    def add(instance_id: str, kind: MetricKind, namespace: str, name: str, dims: DimSet) -> None:
        queries.append(MetricQuery(f"q{len(queries)}", instance_id, kind, namespace, name, dims))

    for instance_id in dict.fromkeys(instance_ids):
        add(instance_id, "cpu", EC2_NAMESPACE, CPU_METRIC, (("InstanceId", instance_id),))
        if agent is None:
            continue
        for dims in agent.dimsets(MEMORY_METRIC, instance_id):
            add(instance_id, "memory", AGENT_NAMESPACE, MEMORY_METRIC, dims)
        for dims in agent.dimsets(DISK_METRIC, instance_id):
            add(instance_id, "disk", AGENT_NAMESPACE, DISK_METRIC, dims)
    return queries


def chunked(items: Sequence[Any], size: int = MAX_QUERIES_PER_CALL) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def newest_points(results: Iterable[Mapping[str, Any]]) -> dict[str, MetricValue]:
    """The newest finite datapoint of each MetricDataResult, keyed by query id.

    Results may arrive split over several pages; every page is considered.
    """
    newest: dict[str, MetricValue] = {}
    for result in results:
        for stamp, value in zip(
            result.get("Timestamps", []), result.get("Values", []), strict=False
        ):
            if not isinstance(value, int | float) or not math.isfinite(value):
                continue
            point = MetricValue(float(value), ensure_utc(stamp))
            current = newest.get(result["Id"])
            if current is None or point.timestamp > current.timestamp:
                newest[result["Id"]] = point
    return newest


def pick_readings(
    instance_ids: Sequence[str],
    queries: Sequence[MetricQuery],
    points: Mapping[str, MetricValue],
    collected_at: datetime,
) -> dict[str, CloudWatchReading]:
    """One reading per requested instance: newest CPU and memory; disk `/`, else the fullest."""
    cpu: dict[str, MetricValue] = {}
    memory: dict[str, MetricValue] = {}
    disks: dict[str, list[tuple[str | None, MetricValue]]] = {}
    for query in queries:
        point = points.get(query.query_id)
        if point is None:
            continue
        if query.kind == "disk":
            disks.setdefault(query.instance_id, []).append((dict(query.dims).get("path"), point))
            continue
        target = cpu if query.kind == "cpu" else memory
        current = target.get(query.instance_id)
        if current is None or point.timestamp > current.timestamp:
            target[query.instance_id] = point
    return {
        instance_id: CloudWatchReading(
            instance_id=instance_id,
            cpu=cpu.get(instance_id),
            memory=memory.get(instance_id),
            disk=_pick_disk(disks.get(instance_id, [])),
            collected_at=collected_at,
        )
        for instance_id in dict.fromkeys(instance_ids)
    }


def _pick_disk(paths: list[tuple[str | None, MetricValue]]) -> MetricValue | None:
    """The root filesystem when reported (newest of its sets), else the fullest filesystem."""
    if not paths:
        return None
    root = [point for path, point in paths if path == ROOT_PATH]
    if root:
        return max(root, key=lambda point: point.timestamp)
    return max((point for _, point in paths), key=lambda point: (point.value, point.timestamp))
