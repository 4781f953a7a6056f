"""The one place a worker's outward shape is built (SPEC §1, §2.3).

`map_worker_to_dto` turns a registry `CMLWorker` into a `CMLWorkerDto`; `worker_dto_to_dict`
turns a DTO into a JSON-ready dict. Nothing else builds, copies or patches a DTO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cmltui.api.dto import CMLWorkerDto, LabDto
from cmltui.domain import idle
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.sanitize import finite_number, finite_percent
from cmltui.domain.status import CMLReach, license_status, service_status
from cmltui.domain.tags import NAME_TAG, created_by
from cmltui.domain.worker import CMLWorker, MetricReading

_NO_ADDRESS_STATES = {WorkerStatus.STOPPED, WorkerStatus.TERMINATED}


@dataclass(frozen=True)
class MapContext:
    """What the mapping needs besides the worker: the time and the configured policy."""

    now: datetime
    idle: idle.IdleSettings = field(default_factory=idle.IdleSettings)
    poll_interval: float = 10.0
    next_refresh_at: datetime | None = None
    boot_grace: timedelta = timedelta(minutes=10)
    prices: Mapping[str, float] = field(default_factory=dict)


def map_worker_to_dto(worker: CMLWorker, ctx: MapContext) -> CMLWorkerDto:
    """Build the outward shape of one worker; every rule of SPEC §2.3 lives here."""
    now = ctx.now
    running = worker.status is WorkerStatus.RUNNING
    has_address = worker.status not in _NO_ADDRESS_STATES
    system_info = worker.cml.system_info if running else None  # normalised by the CML source
    cw = worker.cloudwatch
    cml_stamp = worker.cml.stats_synced_at
    cpu = _pick(_cml_percent(system_info, "cpu"), cml_stamp, cw.cpu if running else None)
    memory = _pick(_cml_percent(system_info, "memory"), cml_stamp, cw.memory if running else None)
    storage = _pick(_cml_percent(system_info, "disk"), cml_stamp, cw.disk if running else None)
    cml_answers = running and worker.cml.outcome.reach in (CMLReach.FULL, CMLReach.PARTIAL)
    started_at = worker.last_start_at()
    labs = worker.cml.labs if running else None
    lab_ids = worker.cml.lab_ids if running else None
    history = worker.history
    licensing = worker.cml.licensing  # stored token-free and JSON-safe (CMLState)
    detection_on = idle.detection_active(worker, ctx.idle)
    return CMLWorkerDto(
        id=worker.instance_id,
        name=worker.tags.get(NAME_TAG) or worker.instance_id,
        aws_region=worker.region,
        aws_instance_id=worker.instance_id,
        instance_type=worker.instance_type,
        status=worker.status,
        service_status=service_status(
            worker.status,
            worker.cml.outcome,
            started_at=started_at,
            now=now,
            boot_grace=ctx.boot_grace,
        ),
        ami_id=worker.ami_id,
        ami_name=worker.ami.name,
        ami_description=worker.ami.description,
        ami_creation_date=worker.ami.creation_date,
        https_endpoint=worker.https_endpoint if has_address else None,
        public_ip=worker.public_ip if has_address else None,
        private_ip=worker.private_ip if has_address else None,
        aws_tags=dict(worker.tags),
        license_status=license_status(licensing, now=now),
        cml_license_info=licensing,
        cml_version=worker.cml.version,  # kept while stopped or down, with its age
        cml_ready=worker.cml.ready if running else None,
        cml_uptime_seconds=(
            int((now - started_at).total_seconds()) if cml_answers and started_at else None
        ),
        cml_labs_count=len(lab_ids) if lab_ids is not None else None,
        cml_system_info=system_info,
        cml_system_health=worker.cml.system_health if running else None,
        cml_last_synced_at=worker.cml.last_synced_at,
        ec2_instance_state_detail=worker.ec2_state_detail,
        ec2_system_status_check=worker.ec2_system_status_check,
        ec2_last_checked_at=worker.ec2_last_checked_at,
        cloudwatch_cpu_utilization=_reading(cw.cpu) if running else None,
        cloudwatch_memory_utilization=_reading(cw.memory) if running else None,
        cloudwatch_last_collected_at=cw.last_collected_at,
        cloudwatch_detailed_monitoring_enabled=cw.detailed_monitoring_enabled,
        cpu_utilization=cpu,
        memory_utilization=memory,
        storage_utilization=storage,
        disk_utilization=storage,
        active_labs_count=(
            sum(1 for lab in labs if lab.state == "STARTED") if labs is not None else None
        ),
        poll_interval=ctx.poll_interval,
        next_refresh_at=ctx.next_refresh_at,
        created_at=worker.created_at or worker.launch_time,
        updated_at=worker.updated_at,
        start_initiated_at=worker.start_initiated_at,
        stop_initiated_at=worker.stop_initiated_at,
        terminated_at=worker.terminated_at,
        created_by=created_by(worker.tags),
        last_activity_at=worker.activity.last_activity_at,
        last_activity_check_at=worker.activity.last_activity_check_at,
        next_idle_check_at=idle.next_idle_check_at(worker, ctx.idle, now),
        target_pause_at=idle.target_pause_at(worker, ctx.idle),
        is_idle_detection_enabled=idle.detection_enabled_for(worker, ctx.idle),
        auto_pause_count=history.auto_pause_count,
        manual_pause_count=history.manual_pause_count,
        auto_resume_count=history.auto_resume_count,
        manual_resume_count=history.manual_resume_count,
        last_paused_at=history.last_paused_at,
        last_resumed_at=history.last_resumed_at,
        paused_by=history.last_paused_by,
        pause_reason=history.pause_reason,
        collected_at=worker.collected_at,
        errors=dict(worker.errors),
        resumed_by=history.last_resumed_by,
        is_idle=idle.is_idle(worker, ctx.idle, now),
        idle_state=idle.idle_state(worker, ctx.idle, now),
        idle_minutes=(
            _round(idle.idle_minutes(worker, now))
            if detection_on and idle.activity_known(worker)
            else None
        ),
        in_snooze_period=idle.in_snooze_period(worker, ctx.idle, now),
        snooze_ends_at=idle.snooze_ends_at(worker, ctx.idle) if running else None,
        eligible_for_auto_pause=idle.eligible_for_auto_pause(worker, ctx.idle, now),
        running_nodes=(system_info or {}).get("running_nodes"),
        labs=(
            [
                LabDto(
                    id=lab.id,
                    title=lab.title,
                    owner=lab.owner_username or lab.owner,
                    state=lab.state,
                    node_count=lab.node_count,
                )
                for lab in labs
            ]
            if labs is not None
            else None
        ),
        recent_user_ids=list(worker.activity.recent_user_ids),
        recent_users=[worker.cml.users.get(uid, uid) for uid in worker.activity.recent_user_ids],
        hourly_cost=_hourly_cost(worker, ctx.prices),
        cml_stale_seconds=_stale_seconds(worker, now) if running else None,
        fact_ages_seconds=_fact_ages(worker, now),
    )


def _cml_percent(system_info: Mapping[str, Any] | None, resource: str) -> float | None:
    if system_info is None:
        return None
    if resource == "cpu":
        return finite_percent(system_info.get("cpu_percent"))
    used = finite_number(system_info.get(f"{resource}_used"))
    total = finite_number(system_info.get(f"{resource}_total"))
    if used is None or total is None or total <= 0:
        return None
    return finite_percent(used / total * 100.0)


def _reading(reading: MetricReading | None) -> float | None:
    return finite_percent(reading.value) if reading is not None else None


def _pick(
    cml_value: float | None, cml_stamp: datetime | None, cloudwatch: MetricReading | None
) -> float | None:
    """CML first, CloudWatch as the fallback; when both exist the newer timestamp wins."""
    cw_value = _reading(cloudwatch)
    if cml_value is None:
        return cw_value
    if cw_value is None or cloudwatch is None or cloudwatch.timestamp is None:
        return cml_value
    if cml_stamp is None or cloudwatch.timestamp > cml_stamp:
        return cw_value
    return cml_value


def _hourly_cost(worker: CMLWorker, prices: Mapping[str, float]) -> float | None:
    if worker.instance_type is None or worker.instance_type not in prices:
        return None
    return prices[worker.instance_type] if worker.status is WorkerStatus.RUNNING else 0.0


def _stale_seconds(worker: CMLWorker, now: datetime) -> int | None:
    """Age of the last good CML stats still shown while the latest cycle failed."""
    if worker.cml.outcome.reach in (CMLReach.FULL, CMLReach.NOT_TRIED):
        return None
    if worker.cml.system_info is None or worker.cml.stats_synced_at is None:
        return None  # nothing old is on show (e.g. a worker still booting)
    return max(0, int((now - worker.cml.stats_synced_at).total_seconds()))


def _fact_ages(worker: CMLWorker, now: datetime) -> dict[str, int]:
    """Seconds since each slow-cadence fact was read, keyed by the DTO field it feeds.

    These facts are read less often than every cycle (and kept while CML is down or the worker
    stopped), so each carries its age: nothing goes stale unseen.
    """
    cml = worker.cml
    read_at = {
        "cml_version": cml.version_read_at,
        "cml_system_health": cml.health_read_at,
        "labs": cml.labs_read_at,
        "cml_license_info": cml.licensing_read_at,
        "recent_users": cml.users_read_at,
        "ec2_system_status_check": worker.ec2_status_checked_at,
    }
    return {
        name: max(0, int((now - when).total_seconds()))
        for name, when in read_at.items()
        if when is not None
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
