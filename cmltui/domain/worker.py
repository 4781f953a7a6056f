"""`CMLWorker`: everything cmltui knows about one worker, kept in the shared registry.

The collector fills the EC2, CloudWatch and CML parts; the idle checker the activity part; the
actions the history and the writes a stale listing must not undo (`pending_tags`,
`pending_status`). Only the mapper turns it into the outward `CMLWorkerDto`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cmltui.domain.accounts import worker_key
from cmltui.domain.enums import PauseReason, WorkerStatus
from cmltui.domain.sanitize import public_json
from cmltui.domain.settle import PendingWrite
from cmltui.domain.status import CMLOutcome

_SANITISED = frozenset({"licensing", "system_health"})


@dataclass
class MetricReading:
    """A raw utilization value with the time it describes; the mapper sanitises `value`."""

    value: Any
    timestamp: datetime | None


@dataclass(frozen=True)
class LabSummary:
    id: str
    title: str
    owner: str | None
    owner_username: str | None
    state: str
    node_count: int | None


@dataclass
class AmiFacts:
    name: str | None = None
    description: str | None = None
    creation_date: datetime | None = None


@dataclass
class CMLState:
    """What the CML API told us; `outcome` is how far the latest cycle got.

    `licensing` and `system_health` are made public (no token, plain JSON) when they are
    stored, once per change, so mapping them each cycle costs nothing.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SANITISED and value is not None:
            raw_name = f"_raw_{name}"
            if value is getattr(self, name, None) or value == self.__dict__.get(raw_name):
                return  # already stored (or the same as what was stored)
            object.__setattr__(self, raw_name, value)
            object.__setattr__(self, "revision", self.__dict__.get("revision", 0) + 1)
            value = public_json(value)
        object.__setattr__(self, name, value)

    version: str | None = None
    ready: bool | None = None
    system_info: dict[str, Any] | None = None  # system_stats as the CML source normalised it
    system_health: dict[str, Any] | None = None
    licensing: dict[str, Any] | None = None  # as CML returns it, the token already stripped
    lab_ids: list[str] | None = None
    labs: list[LabSummary] | None = None
    users: dict[str, str] = field(default_factory=dict)  # user id -> username
    outcome: CMLOutcome = field(default_factory=CMLOutcome)
    last_synced_at: datetime | None = None  # last successful sync: moves on every success
    revision: int = 0  # bumped whenever licensing or health changes (cheap change detection)
    stats_synced_at: datetime | None = None  # when `system_info` was read (every cycle)
    # When each slow-cadence fact was last read: the DTO shows their ages.
    version_read_at: datetime | None = None
    health_read_at: datetime | None = None
    labs_read_at: datetime | None = None  # the lab id list
    licensing_read_at: datetime | None = None
    users_read_at: datetime | None = None
    # The parsed responses `system_health` and `licensing` were made from: the CML source hands
    # back the same model for an unchanged body, so an unchanged fact is not converted again.
    health_source: object | None = None
    licensing_source: object | None = None


@dataclass
class CloudWatchState:
    cpu: MetricReading | None = None
    memory: MetricReading | None = None
    disk: MetricReading | None = None
    last_collected_at: datetime | None = None
    detailed_monitoring_enabled: bool | None = None


@dataclass
class ActivityState:
    """The idle checker's bookkeeping."""

    last_activity_at: datetime | None = None
    last_activity_check_at: datetime | None = None  # last successful telemetry read
    last_check_attempt_at: datetime | None = None  # last try, failed or not: paces retries
    high_water_mark: datetime | None = None  # newest telemetry timestamp already looked at
    recent_user_ids: tuple[str, ...] = ()
    external_start_at: datetime | None = None  # a stopped→running change cmltui did not cause
    auto_paused_episode: datetime | None = None  # reference time of the episode auto-paused


@dataclass
class PauseHistory:
    """Pause/resume history, kept on the instance as `cmltui:*` tags."""

    auto_pause_count: int = 0
    manual_pause_count: int = 0
    auto_resume_count: int = 0
    manual_resume_count: int = 0
    last_paused_at: datetime | None = None
    last_paused_by: str | None = None
    pause_reason: PauseReason | None = None
    last_resumed_at: datetime | None = None
    last_resumed_by: str | None = None


@dataclass
class CMLWorker:
    instance_id: str
    region: str
    name: str
    instance_type: str | None = None
    status: WorkerStatus = WorkerStatus.UNKNOWN
    ec2_state_detail: str | None = None
    ec2_state_transition_at: datetime | None = None
    ec2_system_status_check: str | None = None
    ec2_instance_status_check: str | None = None
    ec2_last_checked_at: datetime | None = None
    ec2_status_checked_at: datetime | None = None  # status checks are read on a slower cadence
    ami_id: str | None = None
    ami: AmiFacts = field(default_factory=AmiFacts)
    public_ip: str | None = None
    private_ip: str | None = None
    public_dns: str | None = None
    private_dns: str | None = None
    https_endpoint: str | None = None
    # Why the endpoint may not be used, opened or offered (`domain.addresses.url_refusal`);
    # None when it may.
    https_endpoint_refusal: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    launch_time: datetime | None = None
    created_at: datetime | None = None
    terminated_at: datetime | None = None
    cml: CMLState = field(default_factory=CMLState)
    cloudwatch: CloudWatchState = field(default_factory=CloudWatchState)
    activity: ActivityState = field(default_factory=ActivityState)
    history: PauseHistory = field(default_factory=PauseHistory)
    # A pause or resume this process made whose history tags AWS refused: it stays this
    # operator's for the run, not a stop "someone else" made (`domain.history.known_history`).
    unwritten_history: PauseHistory | None = None
    start_initiated_at: datetime | None = None
    stop_initiated_at: datetime | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # DTO fields whose outside value came in but could not be read: unknown, not absent.
    unknown_fields: set[str] = field(default_factory=set)
    # The monitor's own writes that a stale listing must not undo (cmltui.domain.settle).
    pending_tags: dict[str, PendingWrite[str]] = field(default_factory=dict)
    pending_status: PendingWrite[WorkerStatus] | None = None
    pending_lab_states: dict[str, PendingWrite[str]] = field(default_factory=dict)  # by lab id
    collected_at: datetime | None = None
    updated_at: datetime | None = None
    observed_fingerprint: int | None = None
    account: str | None = None  # the configured account's name; None for the one default

    @property
    def key(self) -> str:
        """The worker's one key (`domain.accounts.worker_key`): the DTO's `id`."""
        return worker_key(self.account, self.instance_id)

    def write_tags(self, tags: dict[str, str], at: datetime) -> None:
        """Record tags cmltui has just written: they stand until a listing settles them."""
        self.tags.update(tags)
        for key, value in tags.items():
            self.pending_tags[key] = PendingWrite(value, at)

    @property
    def is_running(self) -> bool:
        return self.status is WorkerStatus.RUNNING

    def last_start_at(self) -> datetime | None:
        """The latest of launch, a resume by cmltui and a start seen from outside."""
        candidates = [
            self.launch_time,
            self.history.last_resumed_at,
            self.activity.external_start_at,
        ]
        present = [c for c in candidates if c is not None]
        return max(present) if present else None
