"""The one place a worker's outward shape is built (README, "How it is built").

`map_worker_to_dto` turns a registry `CMLWorker` into a `CMLWorkerDto` (the direct backend);
`map_ccm_snapshot_to_dto` does the same for a Cloud Manager's `worker.snapshot` payload, with
the same domain rules. Nothing else builds, copies or patches a DTO; its one JSON form is
`cmltui.api.dto.worker_dto_to_dict`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cmltui.api.dto import CMLWorkerDto, LabDto, SavingsDto
from cmltui.ccm_facts import CcmLab, IdleVerdict, KeptFact, normalised_system_info
from cmltui.domain import idle
from cmltui.domain.addresses import UrlTrust, address_problem, url_refusal, url_shape_refusal
from cmltui.domain.enums import LicenseStatus, PauseReason, ServiceStatus, WorkerStatus
from cmltui.domain.freshness import age_seconds, cloudwatch_max_age, is_current
from cmltui.domain.prices import Price, PriceLookup, StaticPrices, hourly_cost, price_of
from cmltui.domain.sanitize import error_text, finite_count, finite_number, finite_percent
from cmltui.domain.savings import SavingKind, StopInterval, savings, worker_intervals
from cmltui.domain.secrets import is_secret_key
from cmltui.domain.settle import HELD_FIELDS, REGISTERING
from cmltui.domain.status import CMLReach, license_operation, license_status, service_status
from cmltui.domain.tags import NAME_TAG, created_by, worker_name
from cmltui.domain.times import not_ahead, parse_time, time_problem
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
    prices: PriceLookup = field(default_factory=StaticPrices)
    audited: Mapping[str, Sequence[StopInterval]] = field(default_factory=dict)
    """Stopped intervals per worker key from the audit log (`cmltui.backends.direct.savings`)."""
    cloudwatch_max_age: timedelta = field(default_factory=lambda: cloudwatch_max_age(300.0))
    """How old a CloudWatch point may be and still be shown (`domain.freshness`)."""


def map_worker_to_dto(worker: CMLWorker, ctx: MapContext) -> CMLWorkerDto:
    """Build the outward shape of one worker; every mapping rule (CML first, CloudWatch as
    the fallback, the newer reading wins, values clamped and never guessed) lives here."""
    now = ctx.now
    running = worker.status is WorkerStatus.RUNNING
    has_address = worker.status not in _NO_ADDRESS_STATES
    cw = worker.cloudwatch
    cml_stamp = worker.cml.stats_synced_at
    started_at = worker.last_start_at()
    # Stats from before the last start describe another run (`domain.freshness`).
    system_info = (  # normalised by the CML source
        worker.cml.system_info
        if running and is_current(cml_stamp, started_at=started_at, now=now)
        else None
    )
    points = _Points(started_at, now, ctx.cloudwatch_max_age)
    cpu = points.pick(
        "cpu", _cml_percent(system_info, "cpu"), cml_stamp, cw.cpu if running else None
    )
    memory = points.pick(
        "memory", _cml_percent(system_info, "memory"), cml_stamp, cw.memory if running else None
    )
    storage = points.pick(
        "disk", _cml_percent(system_info, "disk"), cml_stamp, cw.disk if running else None
    )
    cml_answers = running and worker.cml.outcome.reach in (CMLReach.FULL, CMLReach.PARTIAL)
    labs = worker.cml.labs if running else None
    lab_ids = worker.cml.lab_ids if running else None
    history = worker.history
    licensing = worker.cml.licensing  # stored token-free and JSON-safe (CMLState)
    detection_on = idle.detection_active(worker, ctx.idle)
    price = price_of(ctx.prices, worker.region, worker.instance_type)
    address_problems: list[str] = []
    endpoint = worker.https_endpoint if has_address else None
    # The collector's verdict (the resolver's, which vouches with the instance's addresses);
    # an endpoint that was never judged must still be a plain http(s) URL.
    endpoint_refusal = (
        (worker.https_endpoint_refusal or url_shape_refusal(endpoint)) if endpoint else None
    )
    return CMLWorkerDto(
        id=worker.key,
        name=worker_name(worker.tags.get(NAME_TAG), worker.instance_id),
        aws_region=worker.region,
        aws_instance_id=worker.instance_id,
        instance_type=worker.instance_type,
        aws_account=worker.account,
        status=worker.status,
        service_status=service_status(
            worker.status,
            worker.cml.outcome,
            started_at=started_at,
            now=now,
            boot_grace=ctx.boot_grace,
            cml_ready=worker.cml.ready if cml_answers else None,
        ),
        ami_id=worker.ami_id,
        ami_name=worker.ami.name,
        ami_description=worker.ami.description,
        ami_creation_date=worker.ami.creation_date,
        https_endpoint=endpoint,
        https_endpoint_refusal=endpoint_refusal,
        public_ip=_address("public_ip", worker.public_ip, address_problems)
        if has_address
        else None,
        private_ip=(
            _address("private_ip", worker.private_ip, address_problems) if has_address else None
        ),
        public_dns=(
            _address("public_dns", worker.public_dns, address_problems) if has_address else None
        ),
        private_dns=(
            _address("private_dns", worker.private_dns, address_problems) if has_address else None
        ),
        aws_tags=dict(worker.tags),
        license_status=license_status(licensing, now=now),
        cml_license_info=licensing,
        license_operation=license_operation(licensing),
        cml_version=worker.cml.version,  # kept while stopped or down, with its age
        cml_ready=worker.cml.ready if cml_answers else None,  # not a stale answer
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
        errors=_with_problems(worker.errors, address_problems, endpoint_refusal),
        unknown_fields=sorted(worker.unknown_fields),
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
        hourly_cost=hourly_cost(running, price),
        hourly_price=price.per_hour if price else None,
        price_source=price.source if price else None,
        savings=_savings(worker, price, ctx),
        cml_stale_seconds=_stale_seconds(worker, now) if running else None,
        ec2_stale_seconds=_listing_stale_seconds(worker, now),
        fact_ages_seconds=_fact_ages(worker, now),
        utilization_ages_seconds=points.ages,
    )


@dataclass(frozen=True)
class CcmMapContext:
    """What mapping a Cloud Manager `worker.snapshot` needs besides its payload.

    `received_at` is the envelope's time (when Cloud Manager sent it); `held` carries the values
    the settle rule keeps from recent activity events, which a stale snapshot must not undo
    (`cmltui.domain.settle`: DTO fields and values, laid over the payload's). `verdict` is
    Cloud Manager's own idle verdict, `labs` its lab list (with when it was read), and `kept`
    the facts cmltui keeps while Cloud Manager blanks them (`cmltui.ccm_facts`).
    """

    now: datetime
    received_at: datetime
    idle: idle.IdleSettings = field(default_factory=idle.IdleSettings)
    poll_interval: float = 10.0
    next_refresh_at: datetime | None = None
    prices: PriceLookup = field(default_factory=StaticPrices)
    held: Mapping[str, Any] = field(default_factory=dict)
    verdict: IdleVerdict | None = None
    labs: Sequence[CcmLab] | None = None
    labs_read_at: datetime | None = None
    kept: Mapping[str, KeptFact] = field(default_factory=dict)
    trust: UrlTrust = field(default_factory=UrlTrust)
    """The operator's `cml.allowed_hosts` and `cml.allow_http_hosts` (for `https_endpoint`)."""


_CCM_STATUS_ALIASES = {"starting": "pending", "failed": "unknown"}
_MAX_TEXT = 512
_MAX_TAGS = 200
_MAX_DEPTH = 6
_MAX_ITEMS = 500


def map_ccm_snapshot_to_dto(payload: Mapping[str, Any], ctx: CcmMapContext) -> CMLWorkerDto:
    """Build the outward shape of one Cloud Manager worker from its `worker.snapshot` payload.

    Cloud Manager's DTO has cmltui's field names; every value is still outside data, so each is
    parsed, bounded and checked here. `license_token` (and any token-like nested key) is never
    read, so it cannot reach the DTO.
    """
    data = {**payload, **{k: v for k, v in ctx.held.items() if k in HELD_FIELDS}}
    worker_id = _text(data.get("id")) or "?"
    status = ccm_status(data.get("status"))
    running = status is WorkerStatus.RUNNING
    cpu = finite_percent(data.get("cpu_utilization"))
    storage = finite_percent(data.get("storage_utilization"))
    if storage is None:
        storage = finite_percent(data.get("disk_utilization"))
    instance_type = _text(data.get("instance_type"))
    system_info = normalised_system_info(data.get("cml_system_info")) if running else None
    enabled = data.get("is_idle_detection_enabled") is True
    times = _ccm_times(data, ctx.now)
    poll = finite_number(data.get("poll_interval"))
    region = _text(data.get("aws_region")) or ""
    price = price_of(ctx.prices, region, instance_type)
    # Cloud Manager's own verdict (its idle-status route), through the domain's one idle state:
    # unknown until it has been read. Its `target_pause_at` is shown only as sent.
    verdict = ctx.verdict
    detection_on = (
        running and enabled and ctx.idle.enabled and (verdict is None or verdict.auto_pause_enabled)
    )
    judged = verdict if detection_on else None
    in_snooze = judged is not None and judged.in_snooze
    # Upstream counts a worker idle in its snooze too (by its last activity alone); here, as
    # on AWS, a worker just resumed is not idle, so the idle counts and burn agree with its
    # state (snooze).
    is_idle = (judged.is_idle and not in_snooze) if judged is not None else None
    labs = ctx.labs if running else None
    version = _text(data.get("cml_version"))
    licence = _bounded_mapping(data.get("cml_license_info"))
    licence_info = licence if licence is not None else _kept(ctx, "cml_license_info")
    address_problems: list[str] = []
    public_ip = _address("public_ip", _text(data.get("public_ip")), address_problems)
    private_ip = _address("private_ip", _text(data.get("private_ip")), address_problems)
    endpoint = _text(data.get("https_endpoint"), _MAX_URL)
    # Cloud Manager's endpoint is outside data like a URL tag: it must name one of the worker's
    # own addresses or an allowed host before it is opened or offered.
    own = tuple(address for address in (public_ip, private_ip) if address)
    endpoint_refusal = url_refusal(endpoint, own, ctx.trust) if endpoint else None
    return CMLWorkerDto(
        id=worker_id,
        name=worker_name(_text(data.get("name")), worker_id),
        aws_region=region,
        aws_instance_id=_text(data.get("aws_instance_id")) or worker_id,
        instance_type=instance_type,
        aws_account=None,  # Cloud Manager's DTO names no account
        status=status,
        service_status=_enum(ServiceStatus, data.get("service_status"), ServiceStatus.UNAVAILABLE),
        ami_id=_text(data.get("ami_id")),
        ami_name=_text(data.get("ami_name")),
        ami_description=_text(data.get("ami_description")),
        ami_creation_date=times["ami_creation_date"],
        https_endpoint=endpoint,
        https_endpoint_refusal=endpoint_refusal,
        public_ip=public_ip,
        private_ip=private_ip,
        public_dns=None,  # Cloud Manager sends no DNS names
        private_dns=None,
        aws_tags=_tags(data.get("aws_tags")),
        license_status=ccm_licence_status(data.get("license_status")),
        cml_license_info=licence_info,
        # Held from a registration event (Cloud Manager's DTO does not carry it), or CML's word.
        license_operation=(
            REGISTERING
            if data.get("license_operation") == REGISTERING
            else license_operation(licence_info)
        ),
        # Blanked by Cloud Manager on a stop; kept, with its age, as on AWS.
        cml_version=version if version is not None else _kept(ctx, "cml_version"),
        cml_ready=data.get("cml_ready") if isinstance(data.get("cml_ready"), bool) else None,
        cml_uptime_seconds=_int_or_none(data.get("cml_uptime_seconds")),
        # Labs in any state while CML answers; upstream's 0 for a stopped worker means "not
        # read", shown as unknown as on AWS.
        cml_labs_count=_int_or_none(data.get("cml_labs_count")) if running else None,
        cml_system_info=system_info,
        cml_system_health=_bounded_mapping(data.get("cml_system_health")),
        cml_last_synced_at=times["cml_last_synced_at"],
        ec2_instance_state_detail=_text(data.get("ec2_instance_state_detail")),
        ec2_system_status_check=_text(data.get("ec2_system_status_check")),
        ec2_last_checked_at=times["ec2_last_checked_at"],
        cloudwatch_cpu_utilization=finite_percent(data.get("cloudwatch_cpu_utilization")),
        cloudwatch_memory_utilization=finite_percent(data.get("cloudwatch_memory_utilization")),
        cloudwatch_last_collected_at=times["cloudwatch_last_collected_at"],
        cloudwatch_detailed_monitoring_enabled=(
            data.get("cloudwatch_detailed_monitoring_enabled")
            if isinstance(data.get("cloudwatch_detailed_monitoring_enabled"), bool)
            else None
        ),
        cpu_utilization=cpu,
        memory_utilization=finite_percent(data.get("memory_utilization")),
        storage_utilization=storage,
        disk_utilization=storage,
        # STARTED labs, as on AWS (Cloud Manager's own field counts every lab): from the lab
        # list, unknown until it has been read.
        active_labs_count=(
            sum(1 for lab in labs if lab.state == "STARTED") if labs is not None else None
        ),
        poll_interval=poll if poll is not None and poll > 0 else ctx.poll_interval,
        # cmltui's own schedule, unless Cloud Manager says when it refreshes
        next_refresh_at=parse_time(data.get("next_refresh_at")) or ctx.next_refresh_at,
        created_at=times["created_at"],
        updated_at=times["updated_at"],
        start_initiated_at=times["start_initiated_at"],
        stop_initiated_at=times["stop_initiated_at"],
        terminated_at=times["terminated_at"],
        created_by=_text(data.get("created_by")),
        last_activity_at=times["last_activity_at"],
        last_activity_check_at=times["last_activity_check_at"],
        next_idle_check_at=times["next_idle_check_at"],
        target_pause_at=times["target_pause_at"],
        is_idle_detection_enabled=enabled,
        auto_pause_count=finite_count(data.get("auto_pause_count")),
        manual_pause_count=finite_count(data.get("manual_pause_count")),
        auto_resume_count=finite_count(data.get("auto_resume_count")),
        manual_resume_count=finite_count(data.get("manual_resume_count")),
        last_paused_at=times["last_paused_at"],
        last_resumed_at=times["last_resumed_at"],
        paused_by=_text(data.get("paused_by")),
        pause_reason=ccm_pause_reason(data.get("pause_reason")),
        collected_at=ctx.received_at,
        errors=_with_problems(_ccm_time_problems(data, times), address_problems, endpoint_refusal),
        unknown_fields=_unknown(data, times),
        resumed_by=_text(data.get("resumed_by")),  # not in Cloud Manager's DTO: a held event's
        is_idle=is_idle,
        idle_state=idle.state_of(
            running=running, detection_on=detection_on, in_snooze=in_snooze, is_idle=is_idle
        ),
        idle_minutes=(_round(judged.idle_minutes) if judged is not None else None),
        in_snooze_period=in_snooze,
        snooze_ends_at=None,  # Cloud Manager says whether, not until when
        eligible_for_auto_pause=judged is not None and judged.eligible_for_pause,
        running_nodes=(system_info or {}).get("running_nodes"),
        labs=(
            [
                LabDto(
                    id=lab.id,
                    title=lab.title,
                    owner=lab.owner,
                    state=lab.state,
                    node_count=lab.node_count,
                )
                for lab in labs
            ]
            if labs is not None
            else None
        ),
        recent_user_ids=[],
        recent_users=[],
        hourly_cost=hourly_cost(running, price),
        hourly_price=price.per_hour if price else None,
        price_source=price.source if price else None,
        savings=_NEVER_STOPPED,  # Cloud Manager sends no stop history to count from
        cml_stale_seconds=None,
        ec2_stale_seconds=None,  # the stream's own staleness is the header's
        fact_ages_seconds=_ccm_fact_ages(ctx, running),
        utilization_ages_seconds={},
    )


def _kept(ctx: CcmMapContext, name: str) -> Any:
    fact = ctx.kept.get(name)
    return fact.value if fact is not None else None


def _ccm_fact_ages(ctx: CcmMapContext, running: bool) -> dict[str, int]:
    """Seconds since each kept fact was read (as `_fact_ages` on AWS): the version and the
    licence, and the lab list while it is shown."""
    read_at = {name: fact.read_at for name, fact in ctx.kept.items()}
    if running and ctx.labs is not None and ctx.labs_read_at is not None:
        read_at["labs"] = ctx.labs_read_at
    return {name: max(0, int((ctx.now - when).total_seconds())) for name, when in read_at.items()}


def ccm_status(value: Any) -> WorkerStatus:
    """Cloud Manager's status word as cmltui's (its `starting` is EC2's `pending`)."""
    text = _text(value)
    return WorkerStatus.from_ec2(_CCM_STATUS_ALIASES.get(text or "") or text)


def ccm_licence_status(value: Any) -> LicenseStatus | None:
    """Cloud Manager's licence word as cmltui's (the same five; anything else is unknown)."""
    return _enum(LicenseStatus, value, None)


AUTO_PAUSE_PREFIX = "Auto-paused"


def ccm_pause_reason(value: Any) -> PauseReason | None:
    """Cloud Manager's pause reason as cmltui's. Its auto-pause gives a sentence ("Auto-paused
    after 75.0 minutes idle"), not `idle_timeout` (upstream's `detect_worker_idle_command.py`)."""
    if isinstance(value, str) and value.startswith(AUTO_PAUSE_PREFIX):
        return PauseReason.IDLE_TIMEOUT
    return _enum(PauseReason, value, None)


_CCM_TIMES = (
    "ami_creation_date",
    "cml_last_synced_at",
    "ec2_last_checked_at",
    "cloudwatch_last_collected_at",
    "created_at",
    "updated_at",
    "start_initiated_at",
    "stop_initiated_at",
    "terminated_at",
    "last_activity_at",
    "last_activity_check_at",
    "next_idle_check_at",
    "target_pause_at",
    "last_paused_at",
    "last_resumed_at",
)


def _ccm_times(data: Mapping[str, Any], now: datetime) -> dict[str, datetime | None]:
    """Every time of a Cloud Manager snapshot through the one parser; activity more than a day
    ahead is not believed."""
    times = {name: parse_time(data.get(name)) for name in _CCM_TIMES}
    times["last_activity_at"] = not_ahead(times["last_activity_at"], now)
    return times


def _unknown(data: Mapping[str, Any], times: Mapping[str, datetime | None]) -> list[str]:
    """The times Cloud Manager sent that could not be used (absent ones are not unknown)."""
    return [name for name in _CCM_TIMES if times[name] is None and data.get(name) not in _ABSENT]


def _ccm_time_problems(
    data: Mapping[str, Any], times: Mapping[str, datetime | None]
) -> dict[str, str]:
    problems = [time_problem(name, data.get(name)) for name in _unknown(data, times)]
    return {"times": error_text("; ".join(problems))} if problems else {}


_ABSENT = (None, "")
_MAX_URL = 2048
_ADDRESS_SHOWN = 80


def _address(name: str, value: str | None, problems: list[str]) -> str | None:
    """An address field kept only when it is an IP address or host name
    (`domain.addresses`); otherwise why not goes to `problems`: it is data, shown in the
    errors, never an address nor part of the ssh line."""
    if not value:
        return None
    problem = address_problem(value)
    if problem is None:
        return value
    problems.append(f"{name} {problem}: {value[:_ADDRESS_SHOWN]}")
    return None


def _with_problems(
    errors: Mapping[str, str], address_problems: list[str], endpoint_refusal: str | None
) -> dict[str, str]:
    """The worker's errors, with its unusable addresses and an untrusted endpoint named."""
    if not address_problems and endpoint_refusal is None:
        return dict(errors)
    merged = dict(errors)
    if address_problems:
        merged["addresses"] = error_text("; ".join(address_problems))
    if endpoint_refusal is not None:
        merged["url"] = error_text(endpoint_refusal)
    return merged


def _text(value: Any, limit: int = _MAX_TEXT) -> str | None:
    """A bounded string; outside text is shown as data (made safe at the screen edge)."""
    if not isinstance(value, str):
        return None
    return value[:limit]


def _enum(kind: Any, value: Any, default: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        return default


def _tags(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    tags: dict[str, str] = {}
    for key, item in list(value.items())[:_MAX_TAGS]:
        if isinstance(key, str) and isinstance(item, str):
            tags[key[:128]] = item[:256]
    return tags


def _bounded_mapping(value: Any) -> dict[str, Any] | None:
    bounded = _bounded_json(value)
    return bounded if isinstance(bounded, dict) else None


def _bounded_json(value: Any, depth: int = 0) -> Any:
    """Plain JSON, secret-free, bounded in depth, size and string length."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {
            str(k)[:128]: _bounded_json(v, depth + 1)
            for k, v in list(value.items())[:_MAX_ITEMS]
            if not is_secret_key(str(k))
        }
    if isinstance(value, list | tuple):
        return [_bounded_json(v, depth + 1) for v in value[:_MAX_ITEMS]]
    if isinstance(value, str):
        return value[:_MAX_TEXT]
    if isinstance(value, bool) or value is None:
        return value
    return finite_number(value)


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


_AGE_FIELDS = {"cpu": "cpu_utilization", "memory": "memory_utilization", "disk": "disk_utilization"}


class _Points:
    """Picks each utilization value and keeps the age of the point it came from."""

    def __init__(self, started_at: datetime | None, now: datetime, cw_max_age: timedelta) -> None:
        self.started_at = started_at
        self.now = now
        self.cw_max_age = cw_max_age
        self.ages: dict[str, int] = {}

    def pick(
        self,
        resource: str,
        cml_value: float | None,
        cml_stamp: datetime | None,
        cloudwatch: MetricReading | None,
    ) -> float | None:
        """CML first, CloudWatch as the fallback; when both exist the newer timestamp wins.
        A point from before the last start (either source), or a CloudWatch point past its
        age, does not stand for now (`domain.freshness`): that value is None."""
        if not is_current(cml_stamp, started_at=self.started_at, now=self.now):
            cml_value = None
        cw_value = _reading(cloudwatch)
        cw_stamp = cloudwatch.timestamp if cloudwatch is not None else None
        if cw_value is not None and not is_current(
            cw_stamp, started_at=self.started_at, now=self.now, max_age=self.cw_max_age
        ):
            cw_value = None
        use_cw = cw_value is not None and (
            cml_value is None
            or (cw_stamp is not None and (cml_stamp is None or cw_stamp > cml_stamp))
        )
        value, stamp = (cw_value, cw_stamp) if use_cw else (cml_value, cml_stamp)
        age = age_seconds(stamp, self.now) if value is not None else None
        if age is not None:
            self.ages[_AGE_FIELDS[resource]] = age
        return value


def _savings(worker: CMLWorker, price: Price | None, ctx: MapContext) -> SavingsDto:
    intervals = worker_intervals(
        ctx.audited.get(worker.key, ()),
        worker.status,
        worker.history,
        worker.ec2_state_transition_at,
        worker.created_at or worker.launch_time,
    )
    if not intervals:
        return _NEVER_STOPPED  # most workers, most cycles: one shared frozen value
    result = savings(intervals, price.per_hour if price else None, ctx.now)
    return SavingsDto(
        saved_usd=_cents(result.usd()),
        auto_usd=_cents(result.usd(SavingKind.AUTO)),
        manual_usd=_cents(result.usd(SavingKind.MANUAL)),
        external_usd=_cents(result.usd(SavingKind.EXTERNAL)),
        stopped_hours=round(result.total_hours, 3),
        since=result.since,
        basis=[basis.value for basis in result.basis],
    )


_NEVER_STOPPED = SavingsDto(
    saved_usd=0.0,
    auto_usd=0.0,
    manual_usd=0.0,
    external_usd=0.0,
    stopped_hours=0.0,
    since=None,
    basis=[],
)


def _cents(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


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


def _stale_seconds(worker: CMLWorker, now: datetime) -> int | None:
    """Age of the last good CML stats still shown while the latest cycle failed."""
    if worker.cml.outcome.reach in (CMLReach.FULL, CMLReach.NOT_TRIED):
        return None
    stamp = worker.cml.stats_synced_at
    if worker.cml.system_info is None or stamp is None:
        return None  # nothing old is on show (e.g. a worker still booting)
    if not is_current(stamp, started_at=worker.last_start_at(), now=now):
        return None  # stats from before the last start are not shown at all
    return max(0, int((now - worker.cml.stats_synced_at).total_seconds()))


def _listing_stale_seconds(worker: CMLWorker, now: datetime) -> int | None:
    """Age of the last EC2 listing that showed the worker, while its account's region fails."""
    if "ec2" not in worker.errors or worker.ec2_last_checked_at is None:
        return None
    return max(0, int((now - worker.ec2_last_checked_at).total_seconds()))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _int_or_none(value: Any) -> int | None:
    number = finite_number(value)
    return None if number is None else int(number)
