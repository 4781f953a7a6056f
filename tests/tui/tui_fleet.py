"""A fixed fleet for the dashboard tests: a dozen CMLWorker objects mirroring the demo mix.

Every DTO is made by the real mapper from these workers, so the screen is tested against the
one shape the core produces. Tests change a worker (its stats, tags, status) and map again.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from cmltui.api.events import FleetSnapshot
from cmltui.config import Config
from cmltui.domain.enums import PauseReason, WorkerStatus
from cmltui.domain.savings import StopInterval
from cmltui.domain.status import CMLOutcome, CMLReach
from cmltui.domain.worker import (
    ActivityState,
    CloudWatchState,
    CMLState,
    CMLWorker,
    LabSummary,
    MetricReading,
    PauseHistory,
)
from cmltui.mapper import MapContext, map_worker_to_dto

NOW = datetime(2026, 3, 2, 14, 0, 0, tzinfo=UTC)
SEED = 7
GIB = 1024**3

REGISTERED = {
    "registration": {"status": "COMPLETED", "expires": "2027-01-01T00:00:00Z"},
    "authorization": {"status": "AUTHORIZED", "expires": "2027-01-01T00:00:00Z"},
    "product_license": {"active": "CML_Enterprise"},
}
LICENSES = {
    "registered": REGISTERED,
    "eval": {"registration": {"status": "COMPLETED"}, "authorization": {"status": "EVAL"}},
    "expired": {
        "registration": {"status": "COMPLETED"},
        "authorization": {"status": "EVAL_EXPIRED"},
    },
    "unreg": {
        "registration": {"status": "UNREGISTERED"},
        "authorization": {"status": "NOT_AUTHORIZED"},
    },
}
OWNERS = ("alice", "bob", "carol", "dave")


def _ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def stats(cpu: float, mem: float, disk: float, *, nodes: int = 0, cpus: int = 96) -> dict:
    """A CML `system_stats` body with one controller compute."""
    mem_total, disk_total = 384 * GIB, 1000 * GIB
    return {
        "all": {
            "cpu": {"count": cpus, "percent": cpu},
            "memory": {
                "total": mem_total,
                "used": mem_total * mem / 100,
                "free": mem_total * (100 - mem) / 100,
            },
            "disk": {
                "total": disk_total,
                "used": disk_total * disk / 100,
                "free": disk_total * (100 - disk) / 100,
            },
        },
        "computes": {
            "c1": {
                "hostname": "cml-controller",
                "is_controller": True,
                "stats": {
                    "dominfo": {
                        "running_nodes": nodes,
                        "total_nodes": nodes + 2,
                        "allocated_cpus": nodes,
                        "allocated_memory": nodes * 2048,
                    }
                },
            }
        },
    }


def _labs(rng: random.Random, count: int, started: int, stem: str) -> list[LabSummary]:
    labs = []
    for i in range(count):
        owner = OWNERS[rng.randrange(len(OWNERS))]
        labs.append(
            LabSummary(
                id=f"lab-{stem}-{i}",
                title=f"{stem} lab {i + 1}",
                owner=f"user-{owner}",
                owner_username=owner,
                state="STARTED" if i < started else "STOPPED",
                node_count=rng.randint(2, 24),
            )
        )
    return labs


def _worker(
    index: int,
    role: str,
    rng: random.Random,
    *,
    instance_type: str = "m5zn.metal",
    launched_ago_h: float = 6.0,
    last_activity_ago_m: float | None = 3.0,
    cpu: float = 20.0,
    mem: float = 30.0,
    disk: float = 40.0,
    labs: int = 3,
    started: int = 1,
    license: str = "registered",
    reach: CMLReach = CMLReach.FULL,
    health_valid: bool = True,
) -> CMLWorker:
    name = f"cml-{role}-{index + 1:02d}"
    instance_id = f"i-0{index:02d}{rng.getrandbits(56):014x}"
    launched = _ago(hours=launched_ago_h)
    lab_list = _labs(rng, labs, started, role)
    nodes = sum(lab.node_count or 0 for lab in lab_list if lab.state == "STARTED")
    worker = CMLWorker(
        instance_id=instance_id,
        region="us-east-1" if index % 4 else "eu-west-1",
        name=name,
        instance_type=instance_type,
        status=WorkerStatus.RUNNING,
        ec2_state_detail="running",
        ec2_system_status_check="ok",
        ec2_last_checked_at=NOW,
        ami_id="ami-0cml29000000000001",
        public_ip=f"198.51.100.{10 + index}",
        private_ip=f"10.0.0.{10 + index}",
        https_endpoint=f"https://198.51.100.{10 + index}",
        tags={"Name": name, "cml-worker": "yes"},
        launch_time=launched,
        created_at=launched - timedelta(days=20),
        cml=CMLState(
            version="2.9.0",
            ready=True,
            system_stats=stats(cpu, mem, disk, nodes=nodes),
            system_health={
                "valid": health_valid,
                "is_licensed": license == "registered",
                "is_enterprise": True,
                "computes": {},
                "controller": {},
            },
            licensing=LICENSES[license],
            lab_ids=[lab.id for lab in lab_list],
            labs=lab_list,
            outcome=CMLOutcome(reach=reach, health_valid=health_valid),
            last_synced_at=NOW,
            stats_synced_at=NOW,
        ),
        cloudwatch=CloudWatchState(
            cpu=MetricReading(cpu, _ago(minutes=5)),
            memory=MetricReading(mem, _ago(minutes=5)),
            last_collected_at=_ago(minutes=5),
            detailed_monitoring_enabled=False,
        ),
        activity=ActivityState(
            last_activity_at=_ago(minutes=last_activity_ago_m)
            if last_activity_ago_m is not None
            else None,
            last_activity_check_at=_ago(minutes=2),
            recent_user_ids=("u-alice",),
        ),
        collected_at=NOW,
        updated_at=_ago(minutes=1),
    )
    return worker


def build_workers() -> list[CMLWorker]:
    """busy, labs, idle, snooze, nearpause, stopped, down, degraded, noagent, eval, expired,
    unreg: the demo's mix, fixed."""
    rng = random.Random(SEED)
    w = []
    w.append(_worker(0, "busy", rng, cpu=93.0, mem=74.0, disk=55.0, labs=4, started=3))
    w.append(
        _worker(1, "labs", rng, instance_type="c5.metal", cpu=61.0, mem=52.0, labs=15, started=9)
    )
    w[-1].tags["cmltui:idle-detection"] = "disabled"
    w.append(
        _worker(
            2,
            "idle",
            rng,
            launched_ago_h=50,
            last_activity_ago_m=180,
            cpu=3.0,
            mem=22.0,
            labs=2,
            started=0,
        )
    )
    snooze = _worker(
        3, "snooze", rng, launched_ago_h=30, last_activity_ago_m=140, cpu=4.0, labs=3, started=0
    )
    snooze.history = PauseHistory(
        auto_pause_count=1,
        manual_resume_count=1,
        last_paused_at=_ago(minutes=80),
        last_paused_by="system",
        pause_reason=PauseReason.IDLE_TIMEOUT,
        last_resumed_at=_ago(minutes=20),
        last_resumed_by="alice",
    )
    w.append(snooze)
    w.append(
        _worker(
            4,
            "nearpause",
            rng,
            launched_ago_h=5,
            last_activity_ago_m=50,
            cpu=6.0,
            labs=2,
            started=0,
        )
    )
    stopped = _worker(5, "stopped", rng, launched_ago_h=24, labs=2)
    stopped.status = WorkerStatus.STOPPED
    stopped.ec2_state_detail = "User initiated (2026-03-02 10:00:00 GMT)"
    stopped.cml.outcome = CMLOutcome()
    stopped.history = PauseHistory(
        manual_pause_count=2,
        last_paused_at=_ago(hours=4),
        last_paused_by="bob",
        pause_reason=PauseReason.MANUAL,
        last_resumed_at=_ago(hours=24),
        last_resumed_by="bob",
        manual_resume_count=1,
    )
    w.append(stopped)
    down = _worker(6, "down", rng, cpu=21.0, labs=3)
    down.cml.outcome = CMLOutcome(reach=CMLReach.NO_ANSWER)
    down.cml.last_synced_at = _ago(minutes=4)
    down.cml.stats_synced_at = _ago(minutes=4)  # its last stats stay on show, marked stale
    down.errors = {"cml": "connection refused (198.51.100.16:443)"}
    w.append(down)
    degraded = _worker(7, "degraded", rng, cpu=33.0, health_valid=False, reach=CMLReach.PARTIAL)
    degraded.cml.last_synced_at = _ago(seconds=40)
    degraded.cml.stats_synced_at = _ago(seconds=40)
    degraded.errors = {"cml": "/system_health: HTTP 500"}
    w.append(degraded)
    noagent = _worker(8, "noagent", rng, cpu=27.0, mem=41.0)
    noagent.cloudwatch = CloudWatchState(detailed_monitoring_enabled=False)
    w.append(noagent)
    w.append(_worker(9, "eval", rng, instance_type="m5.4xlarge", cpu=18.0, license="eval"))
    w.append(_worker(10, "expired", rng, cpu=12.0, license="expired"))
    w.append(
        _worker(
            11,
            "unreg",
            rng,
            instance_type="m5.8xlarge",
            cpu=10.0,
            license="unreg",
            labs=0,
            started=0,
        )
    )
    return w


def config(**overrides: object) -> Config:
    return Config(**overrides)  # type: ignore[arg-type]


def snapshot(
    workers: list[CMLWorker],
    collected_at: datetime = NOW,
    cfg: Config | None = None,
    errors: tuple[str, ...] = (),
    audited: Mapping[str, Sequence[StopInterval]] | None = None,
) -> FleetSnapshot:
    """Map every worker through the real mapper, as the collector does."""
    cfg = cfg or Config()
    ctx = MapContext(
        now=collected_at,
        idle=cfg.idle_settings(),
        poll_interval=cfg.intervals.collector,
        next_refresh_at=collected_at + timedelta(seconds=cfg.intervals.collector),
        prices=cfg.price_table(),
        audited=audited or {},
    )
    for worker in workers:
        worker.collected_at = collected_at
    return FleetSnapshot(
        collected_at=collected_at,
        next_refresh_at=ctx.next_refresh_at,
        workers=tuple(map_worker_to_dto(worker, ctx) for worker in workers),
        errors=errors,
    )


def by_name(workers: list[CMLWorker], role: str) -> CMLWorker:
    return next(worker for worker in workers if f"-{role}-" in worker.name)
