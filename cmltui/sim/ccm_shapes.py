"""Upstream Cloud Manager's payload shapes, imitated for the test double.

Each function imitates one upstream behaviour and names the file it follows, in
bvandewe/CML-Cloud-Manager at 89d60c8, under `src/control-plane-api/`. No upstream code is
copied: the shapes are rebuilt from reading it, so that the double answers as upstream does and
not as cmltui's client assumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

UPSTREAM_REGIONS: Final = ("us-east-1", "us-west-2")
"""`integration/enums/aws_regions.py` (`AwsRegion`): the only regions its routes accept.

The double keeps its own copy on purpose: it imitates upstream, not cmltui's client (a test
checks that the two agree)."""

IDLE_TIMEOUT_MINUTES: Final = 60
"""`application/settings.py`: `worker_idle_timeout_minutes`."""
SNOOZE_MINUTES: Final = 60
"""`application/settings.py`: `worker_auto_pause_snooze_minutes`."""
POLL_INTERVAL_S: Final = 300
"""`application/settings.py`: `worker_metrics_poll_interval`."""


def event_iso(value: datetime | None) -> str | None:
    """`_utc_iso` of the event handlers (`application/events/domain/*.py`): `isoformat() + "Z"`,
    which gives `+00:00Z` on the aware datetimes upstream keeps."""
    return None if value is None else value.isoformat() + "Z"


def dto_iso(value: datetime | None) -> str | None:
    """`application/mappers/cml_worker_mapper.py`: the DTO's times are plain `isoformat()`."""
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class ComputeLoad:
    """One compute host's figures, from which the stats below are written."""

    hostname: str
    is_controller: bool
    cpu_count: int
    cpu_percent: float
    memory_total: int
    memory_used: int
    disk_total: int
    disk_used: int
    running_nodes: int
    total_nodes: int


def system_info(computes: Iterable[ComputeLoad]) -> dict[str, Any]:
    """`domain/value_objects/cml_metrics.py`: `CMLSystemInfo.to_dict()` (a dataclass `asdict`).

    Totals are flat (`cpu_utilization` is CML's `all_cpu_percent`); each compute's figures sit
    under `stats.cpu|memory|disk|dominfo`, as `CMLMetricsUpdatedDomainEvent` is applied in
    `domain/entities/cml_worker.py`.
    """
    hosts = list(computes)
    cpus = sum(h.cpu_count for h in hosts)
    memory_total = sum(h.memory_total for h in hosts)
    memory_used = sum(h.memory_used for h in hosts)
    disk_total = sum(h.disk_total for h in hosts)
    disk_used = sum(h.disk_used for h in hosts)
    controller = next((h for h in hosts if h.is_controller), None)
    busy = sum(h.cpu_percent * h.cpu_count for h in hosts) / cpus if cpus else None
    return {
        "cpu_count": cpus,
        "cpu_utilization": None if busy is None else round(busy, 1),
        "memory_total": memory_total,
        "memory_free": memory_total - memory_used,
        "memory_used": memory_used,
        "disk_total": disk_total,
        "disk_free": disk_total - disk_used,
        "disk_used": disk_used,
        "controller_disk_total": controller.disk_total if controller else None,
        "controller_disk_free": controller.disk_total - controller.disk_used
        if controller
        else None,
        "controller_disk_used": controller.disk_used if controller else None,
        "allocated_cpus": sum(h.running_nodes for h in hosts),
        "allocated_memory": sum(h.running_nodes for h in hosts) * 2048,
        "total_nodes": sum(h.total_nodes for h in hosts),
        "running_nodes": sum(h.running_nodes for h in hosts),
        "computes": {f"compute-{i}": _compute(h) for i, h in enumerate(hosts)},
    }


def _compute(host: ComputeLoad) -> dict[str, Any]:
    """`CMLSystemInfoCompute`: hostname, is_controller, and the stats nested under `stats`."""
    return {
        "hostname": host.hostname,
        "is_controller": host.is_controller,
        "stats": {
            "cpu": {
                "load": [round(host.cpu_percent / 25.0, 2)] * 3,
                "count": host.cpu_count,
                "percent": host.cpu_percent,
                "model": "Intel(R) Xeon(R) Platinum 8252C CPU @ 3.80GHz",
                "predicted": host.running_nodes,
            },
            "memory": {
                "total": host.memory_total,
                "free": host.memory_total - host.memory_used,
                "used": host.memory_used,
            },
            "disk": {
                "total": host.disk_total,
                "free": host.disk_total - host.disk_used,
                "used": host.disk_used,
            },
            "dominfo": {
                "allocated_cpus": host.running_nodes,
                "allocated_memory": host.running_nodes * 2048,
                "total_nodes": host.total_nodes,
                "total_orphans": 0,
                "running_nodes": host.running_nodes,
                "running_orphans": 0,
            },
        },
    }


def idle_status(
    *,
    worker_id: str,
    status: str,
    detection_enabled: bool,
    last_activity_at: datetime | None,
    last_resumed_at: datetime | None,
    created_at: datetime,
    next_idle_check_at: datetime | None,
    target_pause_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """`GET …/idle-status`: `application/queries/get_worker_idle_status_query.py`.

    - `is_idle` is `domain/services/idle_detection_service.py`: minutes since the last
      activity, else the last resume, else the creation, against the timeout; never null.
    - `idle_minutes` is `CMLWorker.calculate_idle_duration`: null without a last activity.
    - `in_snooze_period`: within the snooze after the last resume.
    - `snooze_until` is the last resume itself (not the end of the snooze), as upstream sends it.
    - `eligible_for_pause`: idle, detection on, not in snooze, running.
    """
    reference = last_activity_at or last_resumed_at or created_at
    is_idle = (now - reference).total_seconds() / 60.0 >= IDLE_TIMEOUT_MINUTES
    idle_minutes = (
        (now - last_activity_at).total_seconds() / 60.0 if last_activity_at is not None else None
    )
    in_snooze = last_resumed_at is not None and now - last_resumed_at < timedelta(
        minutes=SNOOZE_MINUTES
    )
    return {
        "worker_id": worker_id,
        "is_idle": is_idle,
        "idle_minutes": idle_minutes,
        "idle_threshold_minutes": IDLE_TIMEOUT_MINUTES,
        "last_activity_at": dto_iso(last_activity_at),
        "in_snooze_period": in_snooze,
        "snooze_until": dto_iso(last_resumed_at),
        "auto_pause_enabled": detection_enabled,
        "eligible_for_pause": (
            is_idle and detection_enabled and not in_snooze and status == "running"
        ),
        "next_idle_check_at": dto_iso(next_idle_check_at),
        "target_pause_at": dto_iso(target_pause_at),
        "checked_at": dto_iso(now),
    }


@dataclass
class LabRecord:
    """One lab as upstream's `lab_records` collection keeps it (`domain/entities/lab_record.py`)."""

    lab_id: str
    title: str
    state: str
    owner_username: str
    owner_fullname: str
    node_count: int
    link_count: int
    created: datetime
    synced_at: datetime


def lab_route_item(lab: LabRecord) -> dict[str, Any]:
    """`GET /api/labs/region/{r}/workers/{id}/labs`: `application/queries/get_worker_labs_query.py`
    (`owner` is the full name, `owner_username` the login)."""
    return {
        "id": lab.lab_id,
        "title": lab.title,
        "description": None,
        "notes": None,
        "state": lab.state,
        "owner": lab.owner_fullname,
        "owner_username": lab.owner_username,
        "node_count": lab.node_count,
        "link_count": lab.link_count,
        "created": lab.created.isoformat(),
        "modified": lab.synced_at.isoformat(),
        "groups": [],
        "last_synced": lab.synced_at.isoformat(),
    }


def lab_updated(worker_id: str, lab: LabRecord) -> dict[str, Any]:
    """`worker.labs.updated` with action `updated`: `application/events/domain/lab_record_events.py`
    (`LabRecordUpdatedDomainEventHandler`). No worker snapshot follows it."""
    return {
        "worker_id": worker_id,
        "lab_id": lab.lab_id,
        "action": "updated",
        "title": lab.title,
        "state": lab.state,
        "node_count": lab.node_count,
        "link_count": lab.link_count,
        "owner_username": lab.owner_username,
        "synced_at": event_iso(lab.synced_at),
    }


def lab_state_changed(worker_id: str, lab: LabRecord, previous: str) -> dict[str, Any]:
    """`worker.labs.updated` with action `state_changed` (`LabStateChangedDomainEventHandler`):
    sent before the `updated` one when `LabRecord.update_from_cml` sees a new state."""
    return {
        "worker_id": worker_id,
        "lab_id": lab.lab_id,
        "action": "state_changed",
        "previous_state": previous,
        "new_state": lab.state,
        "changed_fields": {},
        "changed_at": event_iso(lab.synced_at),
    }


def validation_error(loc: tuple[str, ...], msg: str, given: Any) -> dict[str, Any]:
    """FastAPI's 422 body for a path parameter outside its enum: `detail` is a list."""
    return {
        "detail": [
            {
                "type": "enum",
                "loc": list(loc),
                "msg": msg,
                "input": given,
                "ctx": {"expected": " or ".join(f"'{r}'" for r in UPSTREAM_REGIONS)},
            }
        ]
    }


def http_exception(detail: str) -> dict[str, Any]:
    """`fastapi.HTTPException` as `api/dependencies.py` raises it (401, 403): `{"detail": …}`."""
    return {"detail": detail}


def problem_details(status: int, title: str, detail: str) -> dict[str, Any]:
    """Neuroglia's problem-details body, as `ControllerBase.process` answers a failed result."""
    return {
        "title": title,
        "status": status,
        "detail": detail,
        "type": "https://www.w3.org/Protocols/HTTP/HTRESP.html",
    }


def licence_info(kind: str) -> dict[str, Any]:
    """What `/licensing` gave upstream's last CML sync, kept as the licence's `raw_info`
    (`domain/entities/cml_worker.py`: a stop resets the metrics, not the licence)."""
    registration = "COMPLETED" if kind in ("registered", "expired") else "NOT_REGISTERED"
    authorization = {
        "registered": "AUTHORIZED",
        "eval": "EVAL",
        "expired": "EVAL_EXPIRED",
    }.get(kind, "EVAL")
    return {
        "registration": {"status": registration, "smart_account": "lab-team"},
        "authorization": {"status": authorization},
        "product_license": {"active": "CML_Enterprise"},
    }


def public_user(claims: Mapping[str, Any]) -> str | None:
    """`api/controllers/workers_controller.py`: actions pass the JWT's `sub` as the user."""
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else None
