"""The fleet's figures as Prometheus metrics, read from the last snapshot (README, "Prometheus").

`FleetMetrics` is a `prometheus_client` collector: every scrape builds the metric families from
the snapshot the core published last and from the collector's health, so a scrape never starts
a collection and costs AWS and CML nothing. Names follow Prometheus' conventions: the unit in
the name (`_ratio` for 0..1, `_seconds`, `_dollars_per_hour`), counters end in `_total`, and a
state is one 0/1 series per possible value under a `state` label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from cmltui.api.backend import SourceStatus
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import FleetSnapshot
from cmltui.api.health import CollectorHealth
from cmltui.domain.enums import LicenseStatus, ServiceStatus, WorkerStatus
from cmltui.domain.idle import IdleState
from cmltui.domain.sanitize import visible

PREFIX = "cmltui"
WORKER_LABELS = ("name", "instance_id", "region", "account", "instance_type")
LABEL_MAX = 128
"""Label values come from AWS tags and answers: made visible and bounded."""

Metric = GaugeMetricFamily | CounterMetricFamily


def worker_labels(dto: CMLWorkerDto) -> list[str]:
    values = (dto.name, dto.aws_instance_id, dto.aws_region, dto.aws_account, dto.instance_type)
    return [visible(value or "", LABEL_MAX) for value in values]


def _gauge(name: str, doc: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels))


def _worker_gauge(name: str, doc: str, *extra: str) -> GaugeMetricFamily:
    return _gauge(f"worker_{name}", doc, (*WORKER_LABELS, *extra))


def _ratio(percent: float | None) -> float | None:
    return None if percent is None else percent / 100.0


class _WorkerFamilies:
    """One family per per-worker metric; `add` puts a worker's series into each."""

    def __init__(self) -> None:
        self.cpu = _worker_gauge("cpu_utilization_ratio", "CPU utilization (0..1)")
        self.memory = _worker_gauge("memory_utilization_ratio", "Memory utilization (0..1)")
        self.disk = _worker_gauge("disk_utilization_ratio", "Disk utilization (0..1)")
        self.idle_state = _worker_gauge(
            "idle_state", "1 for the worker's idle state (running workers only)", "state"
        )
        self.idle_seconds = _worker_gauge(
            "idle_seconds", "Seconds since the latest activity, start or resume"
        )
        self.detection = _worker_gauge(
            "idle_detection_enabled", "1 when idle detection is on for the worker"
        )
        self.status = _worker_gauge("status", "1 for the worker's EC2 state", "state")
        self.service = _worker_gauge("cml_service_status", "1 for the CML API's state", "state")
        self.license = _worker_gauge("license_status", "1 for the CML licence state", "state")
        self.price = _worker_gauge(
            "price_dollars_per_hour", "On-demand price of the instance type in its region (USD)"
        )
        self.cost = _worker_gauge(
            "cost_dollars_per_hour", "What the worker burns now (its price while running, else 0)"
        )
        self.labs_running = _worker_gauge("labs_running", "Labs in state STARTED")
        self.labs = _worker_gauge("labs", "Labs in any state")

    def families(self) -> list[GaugeMetricFamily]:
        return list(vars(self).values())

    def add(self, dto: CMLWorkerDto) -> None:
        labels = worker_labels(dto)
        for family, value in (
            (self.cpu, _ratio(dto.cpu_utilization)),
            (self.memory, _ratio(dto.memory_utilization)),
            (self.disk, _ratio(dto.disk_utilization)),
            (self.idle_seconds, None if dto.idle_minutes is None else dto.idle_minutes * 60),
            (self.detection, float(dto.is_idle_detection_enabled)),
            (self.price, dto.hourly_price),
            (self.cost, dto.hourly_cost),
            (self.labs_running, dto.active_labs_count),
            (self.labs, dto.cml_labs_count),
        ):
            if value is not None:  # unknown is an absent series, never a 0
                family.add_metric(labels, float(value))
        _states(self.status, labels, WorkerStatus, dto.status)
        _states(self.service, labels, ServiceStatus, dto.service_status)
        if dto.idle_state is not None:
            _states(self.idle_state, labels, IdleState, dto.idle_state)
        if dto.license_status is not None:
            _states(self.license, labels, LicenseStatus, dto.license_status)


def _states(
    family: GaugeMetricFamily, labels: list[str], states: type[StrEnum], current: StrEnum
) -> None:
    for state in states:
        family.add_metric([*labels, state.value], 1.0 if state is current else 0.0)


def worker_metrics(workers: Iterable[CMLWorkerDto]) -> list[GaugeMetricFamily]:
    families = _WorkerFamilies()
    for dto in workers:
        families.add(dto)
    return families.families()


def fleet_metrics(snapshot: FleetSnapshot) -> list[Metric]:
    """The fleet's money and counts: the snapshot's own `cost()`, as the JSON and header."""
    cost = snapshot.cost()
    burn = _gauge("fleet_burn_dollars_per_hour", "What the running workers burn (USD per hour)")
    burn.add_metric([], cost.burn_per_hour)
    idle = _gauge("fleet_idle_burn_dollars_per_hour", "What idle running workers burn")
    idle.add_metric([], cost.idle_burn_per_hour)
    saved = _gauge(
        "fleet_savings_dollars", "What stopped workers saved at today's prices", ("kind",)
    )
    for kind, value in (
        ("auto", cost.saved_auto_usd),
        ("manual", cost.saved_manual_usd),
        ("other", cost.saved_external_usd),
    ):
        saved.add_metric([kind], value)
    unpriced = _gauge("fleet_unpriced_workers", "Running workers left out of the burn: no price")
    unpriced.add_metric([], cost.unpriced_running)
    by_status = _gauge("fleet_workers", "Workers by EC2 state", ("state",))
    by_idle = _gauge("fleet_workers_by_idle_state", "Running workers by idle state", ("state",))
    statuses = {state: 0 for state in WorkerStatus}
    idle_states = {state: 0 for state in IdleState}
    for dto in snapshot.workers:
        statuses[dto.status] += 1
        if dto.idle_state is not None:
            idle_states[dto.idle_state] += 1
    for state, count in statuses.items():
        by_status.add_metric([state.value], count)
    for idle_state, count in idle_states.items():
        by_idle.add_metric([idle_state.value], count)
    collected = _gauge(
        "snapshot_timestamp_seconds", "When the collection of the last snapshot started"
    )
    collected.add_metric([], snapshot.collected_at.timestamp())
    errors = _gauge("snapshot_region_errors", "Regions (of any account) that could not be listed")
    errors.add_metric([], len(snapshot.errors))
    return [burn, idle, saved, unpriced, by_status, by_idle, collected, errors]


def health_metrics(health: CollectorHealth) -> list[Metric]:
    """The collector's own health: cycles, failures, timings, CML requests and AWS calls."""
    cycles = CounterMetricFamily(f"{PREFIX}_collector_cycles", "Collector cycles that ended")
    cycles.add_metric([], health.cycles)
    failures = CounterMetricFamily(
        f"{PREFIX}_collector_cycle_failures",
        "Cycles that failed or listed no region at all",
    )
    failures.add_metric([], health.failures)
    out: list[Metric] = [cycles, failures]
    if health.last_cycle_seconds is not None:
        duration = _gauge("collector_last_cycle_duration_seconds", "How long the last cycle took")
        duration.add_metric([], health.last_cycle_seconds)
        out.append(duration)
    if health.last_success_at is not None:
        success = _gauge(
            "collector_last_success_timestamp_seconds",
            "When the last cycle that listed at least one region ended",
        )
        success.add_metric([], health.last_success_at.timestamp())
        out.append(success)
    for name, doc, value in (
        ("cml_requests", "CML API requests (logins included)", health.cml_requests),
        ("cml_request_errors", "CML API requests that failed", health.cml_request_errors),
    ):
        counter = CounterMetricFamily(f"{PREFIX}_collector_{name}", doc)
        counter.add_metric([], value)
        out.append(counter)
    for name, doc, value in (
        ("cml_requests", "CML requests of the last cycle", health.last_cycle_cml_requests),
        (
            "cml_request_errors",
            "Failed CML requests of the last cycle",
            health.last_cycle_cml_request_errors,
        ),
    ):
        gauge = _gauge(f"collector_last_cycle_{name}", doc)
        gauge.add_metric([], value)
        out.append(gauge)
    calls = CounterMetricFamily(
        f"{PREFIX}_aws_api_calls",
        "AWS API calls (a page counts, a retry does not)",
        labels=["account", "region", "service", "operation"],
    )
    for key, count in sorted(health.aws_calls.items()):
        calls.add_metric([visible(part, LABEL_MAX) for part in key], count)
    out.append(calls)
    return out


def source_metrics(status: SourceStatus | None) -> list[Metric]:
    up = _gauge("source_up", "1 while the source answers (the last cycle or the stream is ok)")
    up.add_metric([], 1.0 if status is not None and status.state == "ok" else 0.0)
    return [up]


class FleetMetrics(Collector):
    """Reads what the core last published; never asks the core for anything new."""

    def __init__(
        self,
        latest: Callable[[], FleetSnapshot | None],
        status: Callable[[], SourceStatus | None],
        health: Callable[[], CollectorHealth | None],
    ) -> None:
        self._latest = latest
        self._status = status
        self._health = health

    def collect(self) -> Iterator[Metric]:
        snapshot = self._latest()
        if snapshot is not None:
            yield from worker_metrics(snapshot.workers)
            yield from fleet_metrics(snapshot)
        yield from source_metrics(self._status())
        health = self._health()
        if health is not None:
            yield from health_metrics(health)
