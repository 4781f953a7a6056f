"""`CMLWorkerDto`: the only shape of a worker that leaves the core.

Built only by `cmltui.mapper.map_worker_to_dto`; turned into JSON only by
`worker_dto_to_dict` below. Field names are those users of the CML Cloud Manager know.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

from cmltui.clock import ensure_utc
from cmltui.domain.enums import LicenseStatus, PauseReason, ServiceStatus, WorkerStatus
from cmltui.domain.idle import IdleState

UtcDateTime = Annotated[
    datetime,
    AfterValidator(ensure_utc),
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
]
"""A datetime in UTC that serialises as ISO-8601 with an explicit `+00:00` offset."""

Percent = float


class LabDto(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str
    title: str
    owner: str | None
    state: str
    node_count: int | None


class SavingsDto(BaseModel):
    """What this worker's stops saved at its current price (amounts None when unpriced)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    saved_usd: float | None
    auto_usd: float | None  # idle detection's auto-pauses
    manual_usd: float | None  # pauses by an operator through cmltui
    external_usd: float | None  # stops made outside cmltui
    stopped_hours: float
    since: UtcDateTime | None  # start of the earliest stop counted
    basis: list[str]  # "audit log", "pause tags", "EC2 stop time"


class CMLWorkerDto(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    # identity
    id: str
    name: str
    aws_region: str
    aws_instance_id: str
    instance_type: str | None
    # The configured name of the AWS account the worker lives in (`[[aws.accounts]]`); None
    # for the one account of a config without accounts, and from a Cloud Manager.
    aws_account: str | None
    # status
    status: WorkerStatus
    service_status: ServiceStatus
    # AMI
    ami_id: str | None
    ami_name: str | None
    ami_description: str | None
    ami_creation_date: UtcDateTime | None
    # network
    https_endpoint: str | None
    # Why the endpoint must not be opened, offered or sent the password (the one trust rule,
    # `cmltui.domain.addresses`); None when it may. An untrusted endpoint stays visible as data.
    https_endpoint_refusal: str | None
    public_ip: str | None
    private_ip: str | None
    public_dns: str | None
    private_dns: str | None
    # tags
    aws_tags: dict[str, str]
    # license (never the Smart Licensing token)
    license_status: LicenseStatus | None
    cml_license_info: dict[str, Any] | None
    license_operation: Literal["registering"] | None  # a registration under way (cmltui's)
    # CML
    cml_version: str | None
    cml_ready: bool | None
    cml_uptime_seconds: int | None
    cml_labs_count: int | None
    cml_system_info: dict[str, Any] | None
    cml_system_health: dict[str, Any] | None
    cml_last_synced_at: UtcDateTime | None
    # EC2
    ec2_instance_state_detail: str | None
    ec2_system_status_check: str | None
    ec2_last_checked_at: UtcDateTime | None
    # CloudWatch
    cloudwatch_cpu_utilization: Percent | None
    cloudwatch_memory_utilization: Percent | None
    cloudwatch_last_collected_at: UtcDateTime | None
    cloudwatch_detailed_monitoring_enabled: bool | None
    # utilization
    cpu_utilization: Percent | None
    memory_utilization: Percent | None
    storage_utilization: Percent | None
    disk_utilization: Percent | None
    active_labs_count: int | None
    # timing
    poll_interval: float
    next_refresh_at: UtcDateTime | None
    created_at: UtcDateTime | None
    updated_at: UtcDateTime | None
    start_initiated_at: UtcDateTime | None
    stop_initiated_at: UtcDateTime | None
    terminated_at: UtcDateTime | None
    created_by: str | None
    # activity and idle
    last_activity_at: UtcDateTime | None
    last_activity_check_at: UtcDateTime | None
    next_idle_check_at: UtcDateTime | None
    target_pause_at: UtcDateTime | None
    is_idle_detection_enabled: bool
    # pause/resume
    auto_pause_count: int
    manual_pause_count: int
    auto_resume_count: int
    manual_resume_count: int
    last_paused_at: UtcDateTime | None
    last_resumed_at: UtcDateTime | None
    paused_by: str | None
    pause_reason: PauseReason | None

    # --- what a monitor needs on top ---
    collected_at: UtcDateTime | None
    errors: dict[str, str]
    # Fields left empty because what came in for them could not be read (a time at the edge of
    # the calendar, say): unknown, shown as `?`, not absent. `errors` holds the raw text.
    unknown_fields: list[str]
    resumed_by: str | None
    is_idle: bool | None  # None while unknown: never false for a worker not yet read
    idle_state: IdleState | None  # None: not running (`domain.idle.state_of`)
    idle_minutes: float | None
    in_snooze_period: bool
    snooze_ends_at: UtcDateTime | None
    eligible_for_auto_pause: bool
    running_nodes: int | None
    labs: list[LabDto] | None
    recent_user_ids: list[str]
    recent_users: list[str]  # the same users, by name where `/users` knows them
    hourly_cost: float | None  # burn now: the price while running, 0 otherwise, None unpriced
    hourly_price: float | None  # on-demand USD per hour in this region, running or not
    price_source: Literal["api", "cache", "table", "config"] | None
    savings: SavingsDto
    cml_stale_seconds: int | None
    # Seconds since EC2 last listed the worker, while its account's region cannot be listed:
    # the row shows its last known state, marked stale. None while listings succeed.
    ec2_stale_seconds: int | None
    # Seconds since each slow-cadence fact was read, by the field it feeds: cml_version,
    # cml_system_health, labs, cml_license_info, recent_users, ec2_system_status_check.
    fact_ages_seconds: dict[str, int]
    # Seconds since the utilization point shown was measured, by field (cpu_utilization,
    # memory_utilization, disk_utilization): CML's stats time or CloudWatch's datapoint time. A
    # point from before the last start, or a CloudWatch point past its age, is not shown.
    utilization_ages_seconds: dict[str, int]


def worker_dto_to_dict(dto: CMLWorkerDto) -> dict[str, Any]:
    """The JSON-ready dict of a DTO: ISO-8601 datetimes with offsets, enums as strings."""
    return dto.model_dump(mode="json")
