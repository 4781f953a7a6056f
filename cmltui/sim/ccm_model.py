"""A simulated CML Cloud Manager's state: the simulated fleet (`build_fleet`) as it manages it.

Payload shapes follow upstream's `CMLWorkerDto` and its domain event handlers, quirks included:
snapshots carry `license_token`, event times end in `+00:00Z` (`isoformat() + "Z"` on aware
datetimes), and snapshot times are plain `isoformat()`. Pure state, no I/O: the server turns the
events it returns into SSE frames.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cmltui.sim.fleet import AMIS, SimWorkerSpec, build_fleet

TRANSITION_S = 3.0  # stopping -> stopped and pending -> running


def upstream_iso(value: datetime | None) -> str | None:
    """Upstream's `_utc_iso`: `isoformat() + "Z"`, which gives `+00:00Z` for aware datetimes."""
    return None if value is None else value.isoformat() + "Z"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass
class Outgoing:
    """One event to broadcast: its type, source and data (the relay adds the envelope)."""

    type: str
    data: dict[str, Any]
    source: str = "domain.cml_worker"


@dataclass
class CcmWorker:
    spec: SimWorkerSpec
    id: str
    instance_id: str
    region: str
    status: str
    idle_enabled: bool
    created_at: datetime
    launched_at: datetime
    updated_at: datetime
    last_activity_at: datetime | None
    transition_at: datetime | None = None
    last_paused_at: datetime | None = None
    last_resumed_at: datetime | None = None
    paused_by: str | None = None
    pause_reason: str | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("auto_pause_count", "manual_pause_count", "auto_resume_count", "manual_resume_count"),
            0,
        )
    )
    cpu: float | None = None
    memory: float | None = None
    storage: float | None = None
    license_token: str = ""
    licence: str = ""  # registered, eval, expired or unregistered: moved by the licence routes

    def __post_init__(self) -> None:
        self.licence = self.licence or self.spec.license


class CcmModel:
    """The fleet as Cloud Manager sees it, moved by `advance(now)` and by the action routes."""

    def __init__(self, workers: int, seed: int, t0: datetime, region: str = "us-east-1") -> None:
        self.seed = seed
        self.region = region
        self.workers: dict[str, CcmWorker] = {}
        for spec in build_fleet(workers, seed):
            digest = hashlib.sha256(f"ccm:{seed}:{spec.index}".encode()).hexdigest()
            worker = CcmWorker(
                spec=spec,
                id=str(uuid.UUID(digest[:32])),
                instance_id="i-" + digest[32:49],
                region=region,
                status=spec.initial_state,
                idle_enabled=spec.idle_detection_tag != "disabled",
                created_at=t0 - timedelta(seconds=spec.created_ago_s),
                launched_at=t0 - timedelta(seconds=spec.launched_ago_s),
                updated_at=t0,
                last_activity_at=t0 - timedelta(seconds=spec.last_activity_ago_s),
                license_token=f"SLR-{digest[:40]}",  # a secret the client must drop
            )
            self._drift(worker, t0)
            self.workers[worker.id] = worker

    # --- reads --------------------------------------------------------------------------------

    def by_name(self, name: str) -> CcmWorker:
        return next(w for w in self.workers.values() if w.spec.name == name)

    def snapshot(self, worker: CcmWorker, now: datetime) -> dict[str, Any]:
        """Upstream's `worker_dto_to_dict(map_worker_to_dto(worker))`, field for field."""
        running = worker.status == "running"
        ami_name, ami_description = AMIS[worker.spec.ami_key]
        labs = worker.spec.lab_count if running else None
        address = f"10.0.{worker.spec.index // 250}.{worker.spec.index % 250 + 1}"
        next_check = now + timedelta(minutes=5) if running and worker.idle_enabled else None
        target = (
            worker.last_activity_at + timedelta(minutes=60)
            if running and worker.idle_enabled and worker.last_activity_at
            else None
        )
        return {
            "id": worker.id,
            "name": worker.spec.name,
            "aws_region": worker.region,
            "aws_instance_id": worker.instance_id,
            "instance_type": worker.spec.instance_type,
            "status": worker.status,
            "service_status": "available" if running else "unavailable",
            "ami_id": "ami-" + worker.instance_id[2:19],
            "ami_name": ami_name,
            "ami_description": ami_description,
            "ami_creation_date": "2025-06-12T00:00:00.000Z",
            "https_endpoint": f"https://{address}" if running else None,
            "public_ip": None,
            "private_ip": address if running else None,
            "aws_tags": {"Name": worker.spec.name, "cml-worker": "true"},
            "license_status": _license(worker.licence),
            "license_token": worker.license_token,
            "cml_license_info": {"registration": {"status": "COMPLETED"}} if running else None,
            "cml_version": worker.spec.cml_version if running else None,
            "cml_ready": running,
            "cml_uptime_seconds": int((now - worker.launched_at).total_seconds())
            if running
            else None,
            "cml_labs_count": labs,
            "cml_system_info": {"cpu_count": 96, "running_nodes": labs * 4} if labs else None,
            "cml_system_health": {
                "valid": worker.spec.health_valid,
                "is_licensed": worker.licence != "unregistered",
                "is_enterprise": False,
                "computes": {},
                "controller": {"is_healthy": worker.spec.health_valid},
            }
            if running
            else None,
            "cml_last_synced_at": _iso(now) if running else None,
            "ec2_instance_state_detail": worker.status,
            "ec2_system_status_check": "ok" if running else None,
            "ec2_last_checked_at": _iso(now),
            "cloudwatch_cpu_utilization": worker.cpu,
            "cloudwatch_memory_utilization": worker.memory,
            "cloudwatch_last_collected_at": _iso(now) if running else None,
            "cloudwatch_detailed_monitoring_enabled": False,
            "cpu_utilization": worker.cpu,
            "memory_utilization": worker.memory,
            "storage_utilization": worker.storage,
            "disk_utilization": worker.storage,
            "active_labs_count": labs,
            "poll_interval": 60,
            "next_refresh_at": _iso(now + timedelta(seconds=60)),
            "created_at": _iso(worker.created_at),
            "updated_at": _iso(worker.updated_at),
            "start_initiated_at": _iso(worker.transition_at)
            if worker.status == "pending"
            else None,
            "stop_initiated_at": _iso(worker.transition_at)
            if worker.status == "stopping"
            else None,
            "terminated_at": None,
            "created_by": worker.spec.created_by,
            "last_activity_at": _iso(worker.last_activity_at),
            "last_activity_check_at": _iso(now - timedelta(minutes=1)) if running else None,
            "next_idle_check_at": _iso(next_check),
            "target_pause_at": _iso(target),
            "is_idle_detection_enabled": worker.idle_enabled,
            **worker.counts,
            "last_paused_at": _iso(worker.last_paused_at),
            "last_resumed_at": _iso(worker.last_resumed_at),
            "paused_by": worker.paused_by,
            "pause_reason": worker.pause_reason,
        }

    def snapshot_event(self, worker: CcmWorker, now: datetime, reason: str) -> Outgoing:
        data = self.snapshot(worker, now)
        data["_reason"] = reason
        return Outgoing("worker.snapshot", data, "domain.cml_worker.snapshot")

    # --- changes ------------------------------------------------------------------------------

    def advance(self, now: datetime) -> list[Outgoing]:
        """Finish transitions and drift metrics; return the events upstream would send."""
        out: list[Outgoing] = []
        for worker in self.workers.values():
            if (
                worker.transition_at
                and (now - worker.transition_at).total_seconds() >= TRANSITION_S
            ):
                new = {"stopping": "stopped", "pending": "running"}.get(worker.status)
                if new:
                    if new == "running":
                        worker.launched_at = now
                    out += self._status(worker, new, now)
                    worker.transition_at = None
            if worker.status == "running":
                self._drift(worker, now)
                out.append(
                    Outgoing(
                        "worker.metrics.updated",
                        {
                            "worker_id": worker.id,
                            "cml_version": worker.spec.cml_version,
                            "labs_count": worker.spec.lab_count,
                            "cpu_utilization": worker.cpu,
                            "memory_utilization": worker.memory,
                            "storage_utilization": worker.storage,
                            "updated_at": upstream_iso(now),
                            "poll_interval": 60,
                            "next_refresh_at": upstream_iso(now + timedelta(seconds=60)),
                        },
                        "domain.cml_worker.cml_metrics",
                    )
                )
        return out

    def set_idle_detection(
        self, worker: CcmWorker, enabled: bool, by: str, now: datetime
    ) -> tuple[dict[str, Any], list[Outgoing]]:
        if worker.idle_enabled == enabled:
            word = "enabled" if enabled else "disabled"
            answer = {
                "worker_id": worker.id,
                "idle_detection_enabled": enabled,
                "message": f"Idle detection already {word}",
            }
            return answer, []
        worker.idle_enabled = enabled
        worker.updated_at = now
        event = Outgoing(
            "worker.idle_detection.toggled",
            {
                "worker_id": worker.id,
                "is_enabled": enabled,
                "toggled_by": by,
                "toggled_at": upstream_iso(now),
            },
            "domain.worker_activity",
        )
        answer = {
            "worker_id": worker.id,
            "idle_detection_enabled": enabled,
            "message": f"Idle detection {'enabled' if enabled else 'disabled'}",
        }
        return answer, [event]

    def stop(self, worker: CcmWorker, by: str, now: datetime) -> list[Outgoing]:
        if worker.status in ("stopped", "stopping"):
            return []
        if worker.status != "running":
            raise ValueError(f"Cannot stop worker in status {worker.status}")
        idle_minutes = (
            (now - worker.last_activity_at).total_seconds() / 60
            if worker.last_activity_at
            else None
        )
        worker.counts["manual_pause_count"] += 1
        worker.last_paused_at, worker.paused_by, worker.pause_reason = now, by, "manual"
        worker.transition_at = now
        paused = Outgoing(
            "worker.paused",
            {
                "worker_id": worker.id,
                "pause_reason": "manual",
                "paused_by": by,
                "paused_at": upstream_iso(now),
                "auto_pause_count": worker.counts["auto_pause_count"],
                "manual_pause_count": worker.counts["manual_pause_count"],
                "idle_duration_minutes": idle_minutes,
            },
            "domain.worker_activity",
        )
        return [paused, *self._status(worker, "stopping", now)]

    def start(self, worker: CcmWorker, by: str, now: datetime) -> list[Outgoing]:
        if worker.status in ("running", "pending"):
            return []
        if worker.status != "stopped":
            raise ValueError(f"Cannot start worker in status {worker.status}")
        was_auto = worker.pause_reason == "idle_timeout"
        worker.counts["manual_resume_count"] += 1
        worker.last_resumed_at = now
        worker.transition_at = now
        worker.last_activity_at = now
        resumed = Outgoing(
            "worker.resumed",
            {
                "worker_id": worker.id,
                "resume_reason": "manual",
                "resumed_by": by,
                "resumed_at": upstream_iso(now),
                "auto_resume_count": worker.counts["auto_resume_count"],
                "manual_resume_count": worker.counts["manual_resume_count"],
                "was_auto_paused": was_auto,
            },
            "domain.worker_activity",
        )
        return [resumed, *self._status(worker, "pending", now)]

    def _status(self, worker: CcmWorker, new: str, now: datetime) -> list[Outgoing]:
        old, worker.status, worker.updated_at = worker.status, new, now
        if new != "running":
            worker.cpu = worker.memory = worker.storage = None
        data = {
            "worker_id": worker.id,
            "old_status": old,
            "new_status": new,
            "updated_at": upstream_iso(now),
        }
        if worker.transition_at is not None:
            data["transition_initiated_at"] = upstream_iso(worker.transition_at)
        return [
            Outgoing("worker.status.updated", data),
            self.snapshot_event(worker, now, "status_updated"),
        ]

    def _drift(self, worker: CcmWorker, now: datetime) -> None:
        if worker.status != "running":
            worker.cpu = worker.memory = worker.storage = None
            return
        spec = worker.spec
        minutes = now.timestamp() / 60.0
        wave = math.sin(minutes / 7.0 + spec.phase)
        worker.cpu = round(min(100.0, max(0.0, spec.cpu_base + spec.cpu_amp * wave)), 1)
        worker.memory = round(min(100.0, max(0.0, spec.mem_base + 3.0 * wave)), 1)
        worker.storage = round(spec.disk_base, 1)


def _license(kind: str) -> str:
    return {"eval": "evaluation", "expired": "expired", "unregistered": "unregistered"}.get(
        kind, "registered"
    )
