"""A simulated CML Cloud Manager's state: the simulated fleet (`build_fleet`) as it manages it.

Every behaviour imitates upstream (bvandewe/CML-Cloud-Manager at 89d60c8, files under
`src/control-plane-api/`) and names the file it follows; the payload shapes are in
`ccm_shapes`. Pure state, no I/O: the server turns the events returned here into SSE frames.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cmltui.sim import ccm_shapes as shapes
from cmltui.sim.ccm_shapes import ComputeLoad, LabRecord, dto_iso, event_iso
from cmltui.sim.fleet import AMIS, INSTANCE_TYPES, SimWorkerSpec, build_fleet

LICENCE_SOURCE = "cml-cloud-manager"  # the licence events' CloudEvent source
TRANSITION_S = 3.0  # stopping -> stopped and pending -> running
GIB = 1024**3
OWNERS = (("alice", "Alice Martin"), ("bob", "Bob Chen"), ("carol", "Carol Diaz"))
_ACTIVE_ROLES = {"busy", "labs", "degraded", "noagent", "eval", "expired", "unreg", "down"}


@dataclass
class Outgoing:
    """One event to broadcast: its type, source and data (the relay adds the envelope)."""

    type: str
    data: dict[str, Any]
    source: str = "domain.cml_worker"


@dataclass
class CcmWorker:
    """One worker as upstream's `CMLWorkerState` holds it (`domain/entities/cml_worker.py`)."""

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
    last_activity_check_at: datetime | None = None
    seen_activity_at: datetime | None = None  # telemetry the next activity check will find
    transition_at: datetime | None = None
    start_initiated_at: datetime | None = None
    stop_initiated_at: datetime | None = None
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
    synced_at: datetime | None = None  # the last CML sync; None once a stop reset the metrics
    licence_info: dict[str, Any] | None = None
    license_token: str = ""
    labs: dict[str, LabRecord] = field(default_factory=dict)
    next_refresh_at: datetime | None = None
    ec2_checked_at: datetime | None = None
    licence: str = "unregistered"  # the fleet's kind (registered, eval…); moved by the routes


class CcmModel:
    """The fleet as Cloud Manager sees it, moved by `advance(now)` and by the action routes.

    `advance` runs what upstream's background jobs would have run by then, each on its own
    cadence: the CML sync (`worker.metrics.updated` from CML metrics), the CloudWatch collection
    (the telemetry form of `worker.metrics.updated` and a snapshot), the activity detection
    (`worker.activity.updated`, and an auto-pause when `auto_pause` is on) and a lab change now
    and then. The cadences are short so that a demo moves; upstream's are minutes.
    """

    def __init__(
        self,
        workers: int,
        seed: int,
        t0: datetime,
        region: str = "us-east-1",
        *,
        telemetry_s: float = 60.0,
        activity_s: float = 60.0,
        lab_change_s: float = 120.0,
        auto_pause: bool = False,
    ) -> None:
        self.seed = seed
        self.region = region
        self.telemetry_s = telemetry_s
        self.activity_s = activity_s
        self.lab_change_s = lab_change_s
        self.auto_pause = auto_pause
        self.workers: dict[str, CcmWorker] = {}
        # Fault: fields a compromised Cloud Manager sends instead of the true ones, by worker id
        # (laid over every snapshot of that worker, in the list, detail and stream alike).
        self.forged: dict[str, dict[str, Any]] = {}
        self._last_run: dict[tuple[str, str], datetime] = {}
        self._last_lab_change = t0
        for spec in build_fleet(workers, seed):
            worker = self._worker(spec, t0)
            self.workers[worker.id] = worker
            for job in ("telemetry", "activity"):  # the jobs ran just before t0
                self._last_run[(worker.id, job)] = t0

    def _worker(self, spec: SimWorkerSpec, t0: datetime) -> CcmWorker:
        digest = hashlib.sha256(f"ccm:{self.seed}:{spec.index}".encode()).hexdigest()
        running = spec.initial_state == "running"
        worker = CcmWorker(
            spec=spec,
            id=str(uuid.UUID(digest[:32])),
            instance_id="i-" + digest[32:49],
            region=self.region,
            status=spec.initial_state,
            idle_enabled=spec.idle_detection_tag != "disabled",
            created_at=t0 - timedelta(seconds=spec.created_ago_s),
            launched_at=t0 - timedelta(seconds=spec.launched_ago_s),
            updated_at=t0,
            last_activity_at=t0 - timedelta(seconds=spec.last_activity_ago_s),
            licence_info=shapes.licence_info(spec.license),
            licence=spec.license,
            license_token=f"SLR-{digest[:40]}",  # a secret the client must drop
            ec2_checked_at=t0,
        )
        if running and worker.idle_enabled:
            worker.last_activity_check_at = t0  # its last activity check ran just now
        self._history(worker, t0)
        self._seed_labs(worker, digest, t0)
        if running:
            worker.synced_at = t0
            worker.next_refresh_at = t0 + timedelta(seconds=shapes.POLL_INTERVAL_S)
        self._drift(worker, t0)
        return worker

    def _history(self, worker: CcmWorker, t0: datetime) -> None:
        """Pause/resume history as upstream's counters hold it (`CMLWorkerState.on` of
        `WorkerPausedDomainEvent`/`WorkerResumedDomainEvent`)."""
        spec = worker.spec
        tags = dict(spec.history_tags)
        if "cmltui:last-paused-at" in tags:  # auto-paused, then resumed by an operator
            worker.last_paused_at = t0 - timedelta(seconds=float(tags["cmltui:last-paused-at"]))
            worker.counts["auto_pause_count"] = 1
        if "cmltui:last-resumed-at" in tags:
            worker.last_resumed_at = t0 - timedelta(seconds=float(tags["cmltui:last-resumed-at"]))
            worker.counts["manual_resume_count"] = 1
        if spec.stopped_ago_s is not None:  # stopped through the REST route: no user passed
            worker.last_paused_at = t0 - timedelta(seconds=spec.stopped_ago_s)
            worker.pause_reason = "manual"
            worker.counts["manual_pause_count"] = 1

    def _seed_labs(self, worker: CcmWorker, digest: str, t0: datetime) -> None:
        spec = worker.spec
        rng = random.Random(f"ccm-labs:{self.seed}:{spec.index}")
        started = math.ceil(spec.lab_count * 0.6) if spec.role in _ACTIVE_ROLES else 0
        for i in range(spec.lab_count):
            login, full = OWNERS[(spec.index + i) % len(OWNERS)]
            lab_id = str(uuid.UUID(hashlib.sha256(f"{digest}:lab:{i}".encode()).hexdigest()[:32]))
            worker.labs[lab_id] = LabRecord(
                lab_id=lab_id,
                title=f"{spec.name.removeprefix('cml-')} lab {i + 1}",
                state="STARTED" if i < started else "STOPPED",
                owner_username=login,
                owner_fullname=full,
                node_count=rng.randint(2, 12),
                link_count=rng.randint(1, 14),
                created=t0 - timedelta(days=rng.randint(1, 60)),
                synced_at=t0,
            )

    # --- reads --------------------------------------------------------------------------------

    def by_name(self, name: str) -> CcmWorker:
        return next(w for w in self.workers.values() if w.spec.name == name)

    def snapshot(self, worker: CcmWorker, now: datetime) -> dict[str, Any]:
        """Upstream's `worker_dto_to_dict(map_worker_to_dto(worker))`, field for field
        (`application/mappers/cml_worker_mapper.py`)."""
        running = worker.status == "running"
        synced = worker.synced_at is not None
        ami_name, ami_description = AMIS[worker.spec.ami_key]
        address = f"10.0.{worker.spec.index // 250}.{worker.spec.index % 250 + 1}"
        has_ip = worker.status in ("running", "pending", "stopping")
        labs_count = len(worker.labs) if synced else 0  # CMLMetrics() after a stop: 0, not None
        payload = {
            "id": worker.id,
            "name": worker.spec.name,
            "aws_region": worker.region,
            "aws_instance_id": worker.instance_id,
            "instance_type": worker.spec.instance_type,
            "status": worker.status,
            "service_status": "available" if running and synced else "unavailable",
            "ami_id": "ami-" + worker.instance_id[2:19],
            "ami_name": ami_name,
            "ami_description": ami_description,
            "ami_creation_date": "2025-06-12T00:00:00.000Z",  # a string as EC2 gives it
            "https_endpoint": f"https://{address}" if running else None,
            "public_ip": None,
            "private_ip": address if has_ip else None,
            "aws_tags": {"Name": worker.spec.name, "cml-worker": "true"},
            "license_status": _license_status(worker.licence),
            "license_token": worker.license_token,
            "cml_license_info": worker.licence_info,  # the licence is kept while stopped
            "cml_version": worker.spec.cml_version if synced else None,
            "cml_ready": synced,
            "cml_uptime_seconds": None,  # the CML sync passes uptime_seconds=None
            "cml_labs_count": labs_count,
            "cml_system_info": self.system_info(worker) if synced else None,
            "cml_system_health": self._health(worker) if synced else None,
            "cml_last_synced_at": dto_iso(worker.synced_at),
            "ec2_instance_state_detail": "ok",
            "ec2_system_status_check": "ok",
            "ec2_last_checked_at": dto_iso(worker.ec2_checked_at),
            "cloudwatch_cpu_utilization": worker.cpu,
            "cloudwatch_memory_utilization": worker.memory,
            "cloudwatch_last_collected_at": dto_iso(worker.synced_at),
            "cloudwatch_detailed_monitoring_enabled": False,
            "cpu_utilization": worker.cpu,
            "memory_utilization": worker.memory,
            "storage_utilization": worker.storage,
            "disk_utilization": worker.storage,
            "active_labs_count": labs_count,  # upstream's alias of every lab, any state
            "poll_interval": shapes.POLL_INTERVAL_S,
            "next_refresh_at": dto_iso(worker.next_refresh_at),
            "created_at": dto_iso(worker.created_at),
            "updated_at": dto_iso(worker.updated_at),
            "start_initiated_at": dto_iso(worker.start_initiated_at),
            "stop_initiated_at": dto_iso(worker.stop_initiated_at),
            "terminated_at": None,
            "created_by": worker.spec.created_by,
            "last_activity_at": dto_iso(worker.last_activity_at),
            "last_activity_check_at": dto_iso(worker.last_activity_check_at),
            "next_idle_check_at": None,  # the activity detection passes None
            "target_pause_at": None,  # likewise: upstream never sets it
            "is_idle_detection_enabled": worker.idle_enabled,
            **worker.counts,
            "last_paused_at": dto_iso(worker.last_paused_at),
            "last_resumed_at": dto_iso(worker.last_resumed_at),
            "paused_by": worker.paused_by,
            "pause_reason": worker.pause_reason,
        }
        return {**payload, **self.forged.get(worker.id, {})}

    def snapshot_event(self, worker: CcmWorker, now: datetime, reason: str) -> Outgoing:
        """`_broadcast_worker_snapshot` (`application/events/domain/cml_worker_events.py`)."""
        data = self.snapshot(worker, now)
        data["_reason"] = reason
        return Outgoing("worker.snapshot", data, "domain.cml_worker.snapshot")

    def idle_status(self, worker: CcmWorker, now: datetime) -> dict[str, Any]:
        return shapes.idle_status(
            worker_id=worker.id,
            status=worker.status,
            detection_enabled=worker.idle_enabled,
            last_activity_at=worker.last_activity_at,
            last_resumed_at=worker.last_resumed_at,
            created_at=worker.created_at,
            next_idle_check_at=None,
            target_pause_at=None,
            now=now,
        )

    def labs(self, worker: CcmWorker) -> list[dict[str, Any]]:
        """The labs route serves upstream's lab records, kept in its database whatever the
        worker's state (`application/queries/get_worker_labs_query.py`)."""
        return [shapes.lab_route_item(lab) for lab in worker.labs.values()]

    def system_info(self, worker: CcmWorker) -> dict[str, Any]:
        spec = worker.spec
        vcpus, memory_gib = INSTANCE_TYPES.get(spec.instance_type, (16, 64))
        hosts = max(1, spec.compute_count)
        running_nodes = sum(
            lab.node_count for lab in worker.labs.values() if lab.state == "STARTED"
        )
        total_nodes = sum(lab.node_count for lab in worker.labs.values())
        cpu = worker.cpu or 0.0
        memory_share = (worker.memory or 0.0) / 100.0
        storage_share = (worker.storage or 0.0) / 100.0
        loads = []
        for i in range(hosts):
            memory_total = memory_gib * GIB // hosts
            disk_total = 1000 * GIB
            loads.append(
                ComputeLoad(
                    hostname=f"{spec.name}-{'controller' if i == 0 else f'compute-{i}'}",
                    is_controller=i == 0,
                    cpu_count=vcpus // hosts,
                    cpu_percent=cpu,
                    memory_total=memory_total,
                    memory_used=int(memory_total * memory_share),
                    disk_total=disk_total,
                    disk_used=int(disk_total * storage_share),
                    running_nodes=running_nodes // hosts + (running_nodes % hosts if i == 0 else 0),
                    total_nodes=total_nodes // hosts + (total_nodes % hosts if i == 0 else 0),
                )
            )
        return shapes.system_info(loads)

    def _health(self, worker: CcmWorker) -> dict[str, Any]:
        return {
            "valid": worker.spec.health_valid,
            "is_licensed": worker.licence != "unregistered",
            "is_enterprise": False,
            "computes": {},
            "controller": {"is_healthy": worker.spec.health_valid},
        }

    # --- upstream's background jobs -----------------------------------------------------------

    def advance(self, now: datetime) -> list[Outgoing]:
        """Finish transitions, then run each job that is due; return the events sent."""
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
            if worker.status != "running":
                continue
            self._user_activity(worker, now)
            out.append(self.cml_metrics(worker, now))
            if self._is_due(worker, "telemetry", self.telemetry_s, now):
                out += self.telemetry(worker, now)
            if worker.idle_enabled and self._is_due(worker, "activity", self.activity_s, now):
                out += self.detect_activity(worker, now)
        if (now - self._last_lab_change).total_seconds() >= self.lab_change_s:
            self._last_lab_change = now
            out += self._some_lab_changes(now)
        return out

    def _is_due(self, worker: CcmWorker, job: str, every: float, now: datetime) -> bool:
        last = self._last_run.get((worker.id, job))
        if last is not None and (now - last).total_seconds() < every:
            return False
        self._last_run[(worker.id, job)] = now
        return True

    def cml_metrics(self, worker: CcmWorker, now: datetime) -> Outgoing:
        """The CML sync's `worker.metrics.updated` (`CMLMetricsUpdatedDomainEventHandler` in
        `application/events/domain/cml_worker_events.py`): CML's version and lab count, and no
        snapshot after it."""
        self._drift(worker, now)
        worker.synced_at = worker.updated_at = now
        return Outgoing(
            "worker.metrics.updated",
            {
                "worker_id": worker.id,
                "cml_version": worker.spec.cml_version,
                "labs_count": len(worker.labs),
                "cpu_utilization": worker.cpu,
                "memory_utilization": worker.memory,
                "storage_utilization": worker.storage,
                "updated_at": event_iso(now),
                "poll_interval": shapes.POLL_INTERVAL_S,
                "next_refresh_at": event_iso(worker.next_refresh_at),
            },
            "domain.cml_worker.cml_metrics",
        )

    def telemetry(self, worker: CcmWorker, now: datetime) -> list[Outgoing]:
        """The CloudWatch collection's `worker.metrics.updated` and the snapshot after it
        (`application/commands/worker/collect_worker_cloudwatch_metrics_command.py`, then
        `CMLWorkerTelemetryUpdatedDomainEventHandler`). Its `last_activity_at` is the time of
        the collection, not user activity (upstream's state does not keep it), and its
        `active_labs_count` is the lab count of every state."""
        worker.next_refresh_at = now + timedelta(seconds=shapes.POLL_INTERVAL_S)
        worker.updated_at = now
        data = {
            "worker_id": worker.id,
            "last_activity_at": event_iso(now),
            "active_labs_count": len(worker.labs) if worker.synced_at else 0,
            "cpu_utilization": worker.cpu,
            "memory_utilization": worker.memory,
            "updated_at": event_iso(now),
            "poll_interval": shapes.POLL_INTERVAL_S,
            "next_refresh_at": event_iso(worker.next_refresh_at),
        }
        return [
            Outgoing("worker.metrics.updated", data),
            self.snapshot_event(worker, now, "telemetry_updated"),
        ]

    def detect_activity(self, worker: CcmWorker, now: datetime) -> list[Outgoing]:
        """One round of upstream's activity detection for a worker
        (`application/commands/worker/detect_worker_idle_command.py`):

        - `worker.activity.updated` carries the newest activity found since the last check, or
          null when there is none (the handler in `domain/entities/cml_worker.py` then keeps
          the old value); `next_idle_check_at` and `target_pause_at` are always null.
        - No snapshot follows it (`WorkerActivityUpdatedDomainEventHandler`).
        - With `auto_pause` on, an eligible worker is stopped as `PauseWorkerCommand` does.
        """
        found, worker.seen_activity_at = worker.seen_activity_at, None
        if found is not None:
            worker.last_activity_at = found
        worker.last_activity_check_at = worker.updated_at = now
        event = Outgoing(
            "worker.activity.updated",
            {
                "worker_id": worker.id,
                "last_activity_at": event_iso(found),
                "last_activity_check_at": event_iso(now),
                "next_idle_check_at": None,
                "target_pause_at": None,
                "updated_at": event_iso(now),
            },
            "domain.worker_activity",
        )
        out = [event]
        verdict = self.idle_status(worker, now)
        if self.auto_pause and verdict["eligible_for_pause"]:
            minutes = verdict["idle_minutes"] or 0.0
            # The auto-pause's reason is its own sentence, not "idle_timeout", so upstream
            # counts it as a manual pause (`CMLWorker.pause`).
            out += self.stop(
                worker, "system", now, reason=f"Auto-paused after {minutes:.1f} minutes idle"
            )
        return out

    def user_activity(self, worker: CcmWorker, at: datetime) -> None:
        """Someone used the worker's CML: the next activity check finds it."""
        if worker.seen_activity_at is None or at > worker.seen_activity_at:
            worker.seen_activity_at = at

    def _user_activity(self, worker: CcmWorker, now: datetime) -> None:
        rng = random.Random(
            f"ccm-activity:{self.seed}:{worker.spec.index}:{int(now.timestamp() // 60)}"
        )
        if rng.random() < worker.spec.activity_rate:
            self.user_activity(worker, now)

    def set_lab_state(
        self, worker: CcmWorker, lab_id: str, state: str, now: datetime
    ) -> list[Outgoing]:
        """A lab found in a new state by the labs refresh (`LabRecord.update_from_cml` in
        `domain/entities/lab_record.py`): `state_changed`, then `updated`; no snapshot."""
        lab = worker.labs[lab_id]
        previous, lab.state, lab.synced_at = lab.state, state, now
        self.user_activity(worker, now)  # starting or stopping a lab is activity
        out = []
        if previous != state:
            out.append(
                Outgoing(
                    "worker.labs.updated",
                    shapes.lab_state_changed(worker.id, lab, previous),
                    "domain.lab_record",
                )
            )
        out.append(
            Outgoing("worker.labs.updated", shapes.lab_updated(worker.id, lab), "domain.lab_record")
        )
        return out

    def _some_lab_changes(self, now: datetime) -> list[Outgoing]:
        """Every few minutes one lab on a busy worker starts or stops, so the demo moves."""
        busy = [
            w
            for w in self.workers.values()
            if w.status == "running" and w.spec.role in ("busy", "labs") and w.labs
        ]
        if not busy:
            return []
        rng = random.Random(f"ccm-lab-change:{self.seed}:{int(now.timestamp())}")
        worker = rng.choice(busy)
        lab = rng.choice(sorted(worker.labs.values(), key=lambda lab: lab.lab_id))
        new = "STOPPED" if lab.state == "STARTED" else "STARTED"
        return self.set_lab_state(worker, lab.lab_id, new, now)

    # --- actions ------------------------------------------------------------------------------

    def set_idle_detection(
        self, worker: CcmWorker, enabled: bool, by: str | None, now: datetime
    ) -> tuple[dict[str, Any], list[Outgoing]]:
        """`application/commands/worker/enable_idle_detection_command.py` (and `disable_…`):
        no event when it is already so; `toggled_by` is the JWT's `sub`."""
        word = "enabled" if enabled else "disabled"
        answer = {"worker_id": worker.id, "idle_detection_enabled": enabled}
        if worker.idle_enabled == enabled:
            return {**answer, "message": f"Idle detection already {word}"}, []
        worker.idle_enabled = enabled
        worker.updated_at = now
        event = Outgoing(
            "worker.idle_detection.toggled",
            {
                "worker_id": worker.id,
                "is_enabled": enabled,
                "toggled_by": by,
                "toggled_at": event_iso(now),
            },
            "domain.worker_activity",
        )
        return {**answer, "message": f"Idle detection {word} successfully"}, [event]

    def stop(
        self, worker: CcmWorker, by: str | None, now: datetime, reason: str | None = None
    ) -> list[Outgoing]:
        """`application/commands/worker/stop_cml_worker_command.py`.

        - Already stopped or stopping: nothing, and the route still answers `true`; only a
          terminated worker is refused (a pending one is stopped).
        - The status is updated first, so its `worker.status.updated` and snapshot (read after
          the save, so it already carries the pause) go out before `worker.paused`.
        - The REST route passes no user: `paused_by` is null; the auto-pause passes "system".
        - Only the reason "idle_timeout" counts as an auto-pause (`CMLWorker.pause`).
        """
        if worker.status in ("stopped", "stopping"):
            return []
        if worker.status == "terminated":
            raise ValueError(f"Cannot stop terminated CML Worker {worker.id}")
        pause_reason = reason or "manual"
        key = "auto_pause_count" if pause_reason == "idle_timeout" else "manual_pause_count"
        worker.counts[key] += 1
        worker.last_paused_at, worker.paused_by, worker.pause_reason = now, by, pause_reason
        worker.transition_at = now
        status = self._status(worker, "stopping", now)
        paused = Outgoing(
            "worker.paused",
            {
                "worker_id": worker.id,
                "pause_reason": pause_reason,
                "paused_by": by,
                "paused_at": event_iso(now),
                "auto_pause_count": worker.counts["auto_pause_count"],
                "manual_pause_count": worker.counts["manual_pause_count"],
                "idle_duration_minutes": None,
            },
            "domain.worker_activity",
        )
        return [*status, paused]

    def start(self, worker: CcmWorker, by: str | None, now: datetime) -> list[Outgoing]:
        """`application/commands/worker/start_cml_worker_command.py`: running or pending does
        nothing; terminated is refused; otherwise status first, then `worker.resumed` with no
        user (the route passes none). A resume does not touch the last activity; after an
        auto-pause it clears the pause reason and who paused (`CMLWorkerState.on`)."""
        if worker.status in ("running", "pending"):
            return []
        if worker.status == "terminated":
            raise ValueError(f"Cannot start terminated CML Worker {worker.id}")
        was_auto = worker.pause_reason == "idle_timeout"
        worker.counts["manual_resume_count"] += 1
        worker.last_resumed_at = now
        if was_auto:
            worker.pause_reason = worker.paused_by = None
        worker.transition_at = now
        status = self._status(worker, "pending", now)
        resumed = Outgoing(
            "worker.resumed",
            {
                "worker_id": worker.id,
                "resume_reason": "manual",
                "resumed_by": by,
                "resumed_at": event_iso(now),
                "auto_resume_count": worker.counts["auto_resume_count"],
                "manual_resume_count": worker.counts["manual_resume_count"],
                "was_auto_paused": was_auto,
            },
            "domain.worker_activity",
        )
        return [*status, resumed]

    def licence_registration(
        self, worker: CcmWorker, by: str | None, now: datetime, *, error: str | None = None
    ) -> list[Outgoing]:
        """A licence registration as upstream's job runs it (`application/events/domain/
        cml_worker_license_events.py`): `started` alone, then `completed` or `failed`, each of
        those followed by a snapshot. Their times are ISO strings without the `Z`."""
        return [
            self.licence_started(worker, by, now),
            *self.licence_ended(worker, now, error=error),
        ]

    def licence_started(self, worker: CcmWorker, by: str | None, now: datetime) -> Outgoing:
        """The job's first event, sent as it starts (before it asks CML anything)."""
        return Outgoing(
            "worker.license.registration.started",
            {
                "worker_id": worker.id,
                "worker_name": worker.spec.name,
                "started_at": now.isoformat(),
                "initiated_by": by or "system",
            },
            LICENCE_SOURCE,
        )

    def licence_ended(
        self, worker: CcmWorker, now: datetime, *, error: str | None = None
    ) -> list[Outgoing]:
        """The job's end: `failed` with CML's reason, or `completed` (the worker registered);
        then a snapshot."""
        if error is not None:
            ended = Outgoing(
                "worker.license.registration.failed",
                {
                    "worker_id": worker.id,
                    "worker_name": worker.spec.name,
                    "error_message": error,
                    "error_code": None,
                    "failed_at": now.isoformat(),
                },
                LICENCE_SOURCE,
            )
            reason = "license_registration_failed"
        else:
            worker.licence = "registered"
            worker.licence_info = shapes.licence_info("registered")
            ended = Outgoing(
                "worker.license.registration.completed",
                {
                    "worker_id": worker.id,
                    "worker_name": worker.spec.name,
                    "registration_status": "COMPLETED",
                    "smart_account": "lab-team",
                    "virtual_account": "cml",
                    "completed_at": now.isoformat(),
                },
                LICENCE_SOURCE,
            )
            reason = "license_registered"
        worker.updated_at = now
        return [ended, self.snapshot_event(worker, now, reason)]

    def licence_deregistered(self, worker: CcmWorker, now: datetime) -> Outgoing:
        """A deregistration job's success (`application/jobs/license_deregistration_job.py`):
        `complete_license_deregistration` (no SSE handler) clears the licence, then
        `update_cml_metrics` keeps CML's new `/licensing` as its `raw_info` and sends the CML
        sync's `worker.metrics.updated`: no licence in it, no snapshot after it. The legacy
        `worker.license.deregistered` belongs to `CMLWorker.deregister_license()`, which
        nothing upstream calls."""
        worker.licence = "unregistered"
        worker.licence_info = shapes.licence_info("unregistered")
        return self.cml_metrics(worker, now)

    def legacy_licence_deregistered(
        self, worker: CcmWorker, by: str | None, now: datetime
    ) -> list[Outgoing]:
        """What `CMLWorkerLicenseDeregisteredEventHandler` would send (`worker.license.
        deregistered`, then a snapshot) for the legacy `CMLWorker.deregister_license()`, which
        nothing upstream calls: never sent by the routes, kept so that tests can show cmltui
        still reads it should a Cloud Manager send it."""
        worker.licence = "unregistered"
        worker.licence_info = None
        worker.updated_at = now
        event = Outgoing(
            "worker.license.deregistered",
            {
                "worker_id": worker.id,
                "deregistered_at": now.isoformat(),
                "initiated_by": by or "system",
            },
            LICENCE_SOURCE,
        )
        return [event, self.snapshot_event(worker, now, "license_deregistered")]

    def _status(self, worker: CcmWorker, new: str, now: datetime) -> list[Outgoing]:
        """`CMLWorker.update_status` and its handler: `worker.status.updated`, then a snapshot.

        Stopping marks the stop's start; stopped resets the addresses, the service status, the
        CloudWatch figures and every CML metric (`CMLMetrics()`: no version, 0 labs), and keeps
        the licence (`CMLWorkerState.on(CMLWorkerStatusUpdatedDomainEvent)`).
        """
        old, worker.status, worker.updated_at = worker.status, new, now
        transition = now if new in ("pending", "stopping") else None
        if new == "pending":
            worker.start_initiated_at = now
        elif new == "running":
            worker.start_initiated_at = None
        elif new == "stopping":
            worker.stop_initiated_at = now
        elif new == "stopped":
            worker.stop_initiated_at = None
            worker.synced_at = None
            worker.cpu = worker.memory = worker.storage = None
        data = {
            "worker_id": worker.id,
            "old_status": old,
            "new_status": new,
            "updated_at": event_iso(now),
        }
        if transition is not None:
            data["transition_initiated_at"] = event_iso(transition)
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


def _license_status(kind: str) -> str:
    return {"eval": "evaluation", "expired": "expired", "unregistered": "unregistered"}.get(
        kind, "registered"
    )
