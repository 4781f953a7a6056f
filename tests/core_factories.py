"""Small builders of registry workers for core tests (DTOs always come from the mapper)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from cmltui.domain.enums import WorkerStatus
from cmltui.domain.status import CMLOutcome, CMLReach
from cmltui.domain.worker import CMLWorker, MetricReading
from cmltui.sources.cml_models import SystemStats

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def stats(
    cpu: Any = 42.0,
    mem_used: Any = 32.0,
    mem_total: Any = 128.0,
    disk_used: Any = 50.0,
    disk_total: Any = 200.0,
) -> dict[str, Any]:
    """A worker's `cml_system_info`, the shape the CML source normalises `system_stats` into.

    The values are put in as given: the mapper must still keep what it shows in range.
    """

    def compute(hostname: str, controller: bool, cpu: Any, running: int, total: int) -> Any:
        return {
            "hostname": hostname,
            "is_controller": controller,
            "cpu_count": 48,
            "cpu_percent": cpu,
            "memory_total": 128.0,
            "memory_used": 1.0,
            "memory_free": 127.0,
            "disk_total": 200.0,
            "disk_used": 1.0,
            "disk_free": 199.0,
            "running_nodes": running,
            "total_nodes": total,
        }

    return {
        "cpu_count": 48,
        "cpu_percent": cpu,
        "memory_total": mem_total,
        "memory_used": mem_used,
        "memory_free": 96.0,
        "disk_total": disk_total,
        "disk_used": disk_used,
        "disk_free": 150.0,
        "total_nodes": 15,
        "running_nodes": 9,
        "allocated_cpus": 16,
        "allocated_memory": 5120,
        "computes": {
            "c1": compute("compute-1", True, cpu, 7, 10),
            "c2": compute("compute-2", False, 10.0, 2, 5),
        },
    }


def system_info_from_body(body: Any) -> dict[str, Any] | None:
    """`system_stats` through the CML source, as a collection would: None if it is rejected."""
    try:
        return SystemStats.model_validate(body).normalised()
    except ValidationError:
        return None


def running_worker(instance_id: str = "i-0123456789abcdef0", **overrides: Any) -> CMLWorker:
    worker = CMLWorker(
        instance_id=instance_id,
        region="us-east-1",
        name=instance_id,
        instance_type="m5zn.metal",
        status=WorkerStatus.RUNNING,
        public_ip="203.0.113.10",
        private_ip="10.0.0.10",
        https_endpoint="https://203.0.113.10",
        tags={"Name": "cml-a", "cml-worker": "1"},
        launch_time=NOW - timedelta(days=2),
    )
    worker.cml.system_info = stats()
    worker.cml.stats_synced_at = NOW - timedelta(seconds=5)
    worker.cml.last_synced_at = NOW - timedelta(seconds=5)
    worker.cml.outcome = CMLOutcome(CMLReach.FULL, health_valid=True)
    worker.cml.version = "2.9.0"
    worker.activity.last_activity_check_at = NOW - timedelta(minutes=1)
    worker.cml.ready = True
    for key, value in overrides.items():
        setattr(worker, key, value)
    return worker


def cw(value: Any, age_s: float) -> MetricReading:
    return MetricReading(value=value, timestamp=NOW - timedelta(seconds=age_s))
