"""Small builders of registry workers for core tests (DTOs always come from the mapper)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cmltui.domain.enums import WorkerStatus
from cmltui.domain.status import CMLOutcome, CMLReach
from cmltui.domain.worker import CMLWorker, MetricReading

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def stats(
    cpu: Any = 42.0,
    mem_used: Any = 32.0,
    mem_total: Any = 128.0,
    disk_used: Any = 50.0,
    disk_total: Any = 200.0,
) -> dict[str, Any]:
    return {
        "all": {
            "cpu": {"count": 48, "percent": cpu},
            "memory": {"used": mem_used, "total": mem_total, "free": 96.0},
            "disk": {"used": disk_used, "total": disk_total, "free": 150.0},
        },
        "computes": {
            "c1": {
                "hostname": "compute-1",
                "is_controller": True,
                "stats": {
                    "cpu": {"count": 48, "percent": cpu},
                    "memory": {"used": mem_used, "total": mem_total, "free": 96.0},
                    "disk": {"used": disk_used, "total": disk_total, "free": 150.0},
                    "dominfo": {
                        "total_nodes": 10,
                        "running_nodes": 7,
                        "allocated_cpus": 12,
                        "allocated_memory": 4096,
                    },
                },
            },
            "c2": {
                "hostname": "compute-2",
                "is_controller": False,
                "stats": {
                    "cpu": {"count": 48, "percent": 10.0},
                    "memory": {"used": 1.0, "total": 128.0, "free": 127.0},
                    "disk": {"used": 1.0, "total": 200.0, "free": 199.0},
                    "dominfo": {
                        "total_nodes": 5,
                        "running_nodes": 2,
                        "allocated_cpus": 4,
                        "allocated_memory": 1024,
                    },
                },
            },
        },
    }


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
    worker.cml.system_stats = stats()
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
