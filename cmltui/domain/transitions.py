"""State transitions of a worker and their side effects (a stopped worker keeps no address or
metrics, and a start cmltui did not make is noted)."""

from __future__ import annotations

from datetime import datetime

from cmltui.domain.enums import WorkerStatus
from cmltui.domain.worker import CloudWatchState, CMLState, CMLWorker

_STOPPED_STATES = {WorkerStatus.STOPPED, WorkerStatus.TERMINATED, WorkerStatus.SHUTTING_DOWN}


def apply_status(worker: CMLWorker, new_status: WorkerStatus, *, observed_at: datetime) -> None:
    """Move a worker to `new_status`, applying the side effects of stopping and starting.

    A stopped worker loses its addresses, endpoint and live metrics but keeps its counters and
    history. A stopped→running change that cmltui did not start is recorded as an external start
    (it resets the idle reference like a resume does).
    """
    old_status = worker.status
    if old_status in (WorkerStatus.STOPPED, WorkerStatus.STOPPING) and (
        new_status is WorkerStatus.RUNNING and worker.start_initiated_at is None
    ):
        worker.activity.external_start_at = observed_at
    worker.status = new_status
    if new_status is WorkerStatus.RUNNING:
        worker.start_initiated_at = None
    if new_status in _STOPPED_STATES:
        worker.stop_initiated_at = None
        clear_live_state(worker)


def clear_live_state(worker: CMLWorker) -> None:
    """Forget what only a running instance has: addresses, endpoint, CML and CloudWatch data.

    Slow-changing CML facts survive, with the time they were read (the DTO shows their age):
    the version, the licence and the users. The collector reads them again on the first cycle
    in which CML answers after a start.
    """
    worker.public_ip = None
    worker.private_ip = None
    worker.public_dns = None
    worker.private_dns = None
    worker.https_endpoint = None
    worker.https_endpoint_refusal = None
    old = worker.cml
    worker.cml = CMLState(
        version=old.version,
        version_read_at=old.version_read_at,
        licensing=old.licensing,
        licensing_read_at=old.licensing_read_at,
        users=old.users,
        users_read_at=old.users_read_at,
        last_synced_at=old.last_synced_at,
    )
    detailed = worker.cloudwatch.detailed_monitoring_enabled
    worker.cloudwatch = CloudWatchState(detailed_monitoring_enabled=detailed)
    worker.errors.pop("cml", None)
    worker.errors.pop("cloudwatch", None)
