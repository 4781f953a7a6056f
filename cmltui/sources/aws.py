"""The AWS source: EC2 discovery, status checks, AMI names, CloudWatch, actions.

One boto3 session, one long-lived client per service and region, botocore retries, and every
boto3 call on a worker thread so the event loop never blocks. API calls are counted through
botocore's event hooks, which is how tests and benchmarks prove the per-cycle call budget.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from botocore.utils import parse_timestamp

from cmltui.clock import Clock, SystemClock
from cmltui.domain.tags import DEFAULT_DISCOVERY_FILTERS
from cmltui.sources.aws_cloudwatch import (
    AGENT_METRICS,
    AGENT_NAMESPACE,
    AgentDimensions,
    CloudWatchReading,
    MetricValue,
    chunked,
    index_agent_metrics,
    newest_points,
    pick_readings,
    plan_queries,
)
from cmltui.sources.aws_ec2 import (
    AmiInfo,
    Ec2Instance,
    InstanceStatus,
    parse_image,
    parse_instance,
    parse_status,
    read_only_what_cmltui_reads,
)
from cmltui.sources.aws_errors import (
    AwsActionError,
    AwsError,
    AwsReadError,
    describe_error,
    error_code,
)
from cmltui.sources.aws_reuse import ParseMemo, ReusingParserFactory
from cmltui.sources.aws_role import AssumedRole, AssumedRoleProvider
from cmltui.sources.offloop import run_off_loop

__all__ = [
    "AmiInfo",
    "AwsActionError",
    "AwsCallCounter",
    "AwsError",
    "AwsReadError",
    "AwsSource",
    "CloudWatchReading",
    "Ec2Instance",
    "InstanceStatus",
    "MetricValue",
    "RegionListing",
]

log = logging.getLogger(__name__)

#: EC2 pages hold at most 1000 items; asking for full pages keeps a cycle at ⌈N/1000⌉ calls.
EC2_PAGE_SIZE = 1000
#: EC2 filters accept at most 200 values.
IMAGE_IDS_PER_CALL = 200
#: Only metrics that reported in this window are worth a dimension set.
LIST_METRICS_RECENTLY_ACTIVE = "PT3H"

T = TypeVar("T")

AWS_FAILURES = (BotoCoreError, ClientError, ResponseParserError)
"""What a boto3 call raises when AWS (or the way to it) fails: an answer that cannot be parsed
is one of them, not a crash."""


def fast_timestamp(value: Any) -> datetime:
    """AWS timestamps as aware datetimes: ISO-8601 by the standard library, else botocore's."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return parse_timestamp(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return parse_timestamp(value)


@dataclass
class RegionListing:
    """One region's view of the fleet; `error` is set (and the rest empty) when listing failed.

    `warnings` holds partial failures (status checks or AMI names unavailable) that leave the
    instance list itself usable.
    """

    region: str
    instances: list[Ec2Instance] = field(default_factory=list)
    account: str | None = None  # the source's account name (None: the one default account)
    statuses: dict[str, InstanceStatus] = field(default_factory=dict)
    amis: dict[str, AmiInfo] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    statuses_read: bool = False  # DescribeInstanceStatus was asked (its cadence was due)


class AwsCallCounter:
    """Thread-safe count of API calls by (region, service, operation), and of metrics requested.

    Fed by botocore's `before-parameter-build` event, which fires once per API call (a page of a
    paginator counts as a call; retries of the same call do not).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str, str]] = Counter()
        self._metrics: Counter[str] = Counter()

    def record(self, region: str, service: str, operation: str, params: dict[str, Any]) -> None:
        with self._lock:
            self._calls[(region, service, operation)] += 1
            if operation == "GetMetricData" and "NextToken" not in params:
                self._metrics[region] += len(params.get("MetricDataQueries", []))

    def count(
        self,
        *,
        region: str | None = None,
        service: str | None = None,
        operation: str | None = None,
    ) -> int:
        """Calls matching every given criterion (all calls when none is given)."""
        with self._lock:
            return sum(
                n
                for (r, s, o), n in self._calls.items()
                if region in (None, r) and service in (None, s) and operation in (None, o)
            )

    def metrics_requested(self, region: str | None = None) -> int:
        """GetMetricData queries sent: what CloudWatch bills for (follow-up pages excluded)."""
        with self._lock:
            if region is None:
                return sum(self._metrics.values())
            return self._metrics[region]

    def snapshot(self) -> dict[tuple[str, str, str], int]:
        with self._lock:
            return dict(self._calls)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._metrics.clear()


class AwsSource:
    """Reads the CML worker fleet from EC2 (and CloudWatch) and performs EC2 actions."""

    def __init__(
        self,
        *,
        regions: list[str],
        profile: str | None = None,
        endpoint_url: str | None = None,
        filters: list[dict[str, Any]] | None = None,
        credentials: dict[str, str] | None = None,
        retry_mode: str = "standard",
        max_attempts: int = 5,
        clock: Clock | None = None,
        cloudwatch_period: int = 300,
        cloudwatch_lookback: float = 900.0,
        cloudwatch_dimensions_ttl: float = 3600.0,
        max_pool_connections: int = 10,
        connect_timeout: float = 4.0,
        read_timeout: float = 15.0,
        account: str | None = None,
        role: AssumedRole | None = None,
    ) -> None:
        if cloudwatch_period <= 0 or cloudwatch_period % 60:
            raise ValueError("cloudwatch_period must be a positive multiple of 60 seconds")
        if retry_mode not in ("standard", "adaptive", "legacy"):
            raise ValueError(f"unknown retry mode {retry_mode!r}")
        self.regions = list(dict.fromkeys(regions))
        self.account = account
        self.role = role
        self.profile = None if credentials else profile
        self.endpoint_url = endpoint_url
        chosen = filters if filters is not None else DEFAULT_DISCOVERY_FILTERS
        self.filters = [dict(f) for f in chosen]
        self._credentials = dict(credentials) if credentials else None
        self._clock = clock or SystemClock()
        self._cw_period = cloudwatch_period
        self._cw_lookback = timedelta(seconds=cloudwatch_lookback)
        self._cw_dims_ttl = timedelta(seconds=cloudwatch_dimensions_ttl)
        self._config = Config(
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},
            max_pool_connections=max_pool_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_appid="cmltui",
        )
        self.calls = AwsCallCounter()
        self._session: boto3.session.Session | None = None
        self.parse_memo: ParseMemo | None = None  # set with the session: listing pages reused
        self._clients: dict[tuple[str, str], Any] = {}
        self._client_lock = threading.Lock()
        self._region_locks: dict[str, threading.Lock] = {}
        self._ami_cache: dict[tuple[str, str], AmiInfo] = {}
        self._agent_dims: dict[str, AgentDimensions] = {}

    def __repr__(self) -> str:  # never show credentials
        return (
            f"AwsSource(account={self.account!r}, regions={self.regions!r}, "
            f"profile={self.profile!r})"
        )

    # -- clients -------------------------------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        """The long-lived client for `service` in `region`, created on first use.

        boto3 sessions are not thread-safe, so creation is serialised; clients themselves are.
        """
        key = (service, region)
        with self._client_lock:
            existing = self._clients.get(key)
            if existing is not None:
                return existing
            if self._session is None:
                self._session = self._new_session()
            kwargs: dict[str, Any] = {"region_name": region, "config": self._config}
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
            made = self._session.client(service, **kwargs)
            made.meta.events.register(
                "before-parameter-build", partial(self._count_call, region, service)
            )
            if service == "ec2" and not read_only_what_cmltui_reads(made.meta.service_model):
                log.debug("EC2 responses are parsed in full (botocore's model changed)")
            self._clients[key] = made
            return made

    def _new_session(self) -> boto3.session.Session:
        core = botocore.session.get_session()
        # An unchanged listing page reuses its last parse (`aws_reuse`), and botocore's default
        # timestamp parser (dateutil, ~25 µs a value; EC2 replies carry several per instance)
        # gives way to ISO-8601 from the standard library, ~100x cheaper.
        parsers = ReusingParserFactory()
        parsers.set_parser_defaults(timestamp_parser=fast_timestamp)
        core.register_component("response_parser_factory", parsers)
        self.parse_memo = parsers.memo
        if self.role is not None:
            # The role's temporary credentials, asked for (and renewed) with the base ones.
            assume = self.role.fetcher(self._base_session(), self._client_kwargs())
            core.get_component("credential_provider").insert_before(
                "env", AssumedRoleProvider(assume)
            )
            return boto3.session.Session(botocore_session=core)
        if self._credentials:
            return self._base_session(core)
        return boto3.session.Session(profile_name=self.profile, botocore_session=core)

    def _base_session(self, core: botocore.session.Session | None = None) -> boto3.session.Session:
        """The credentials given or the profile: this account's own, or a role's source."""
        if self._credentials:
            return boto3.session.Session(
                aws_access_key_id=self._credentials.get("aws_access_key_id"),
                aws_secret_access_key=self._credentials.get("aws_secret_access_key"),
                aws_session_token=self._credentials.get("aws_session_token"),
                botocore_session=core,
            )
        return boto3.session.Session(profile_name=self.profile, botocore_session=core)

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"region_name": self.regions[0], "config": self._config}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        return kwargs

    def _count_call(
        self, region: str, service: str, *, model: Any, params: dict[str, Any], **_: Any
    ) -> None:
        self.calls.record(region, service, model.name, params)

    def _endpoint_of(self, service: str, region: str) -> str | None:
        made = self._clients.get((service, region))
        return made.meta.endpoint_url if made is not None else self.endpoint_url

    # -- fleet listing -------------------------------------------------------------------------

    async def list_fleet(self, *, status_checks: bool = True) -> list[RegionListing]:
        """Every configured region, in parallel; a failing region never hides the others.

        `status_checks=False` skips DescribeInstanceStatus (read on a slower cadence).
        """
        listings = await self._list_regions(status_checks)
        for listing in listings:
            listing.account = self.account
            if listing.error and self.account is not None:
                listing.error = f"{self.account}: {listing.error}"
        return listings

    async def _list_regions(self, status_checks: bool) -> list[RegionListing]:
        results = await asyncio.gather(
            *(self.list_region(r, status_checks=status_checks) for r in self.regions),
            return_exceptions=True,
        )
        listings: list[RegionListing] = []
        for region, result in zip(self.regions, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                log.exception("listing %s failed unexpectedly", region, exc_info=result)
                result = RegionListing(region=region, error=f"{region}: {describe_error(result)}")
            listings.append(result)
        return listings

    async def list_region(self, region: str, *, status_checks: bool = True) -> RegionListing:
        """Instances matching the filters, their status checks (when asked) and their AMIs."""
        return await run_off_loop(self._list_region_sync, region, status_checks)

    async def status_checks(
        self, region: str, instance_ids: Sequence[str]
    ) -> dict[str, InstanceStatus]:
        """Status checks of some instances, off the listing's cadence (after a state change).

        Raises `AwsReadError` when the call fails.
        """

        def run() -> dict[str, InstanceStatus]:
            try:
                return self._describe_statuses(region, set(instance_ids))
            except AWS_FAILURES as exc:
                endpoint = self._endpoint_of("ec2", region)
                raise AwsReadError(
                    error_code(exc), f"{region}: status checks: {describe_error(exc, endpoint)}"
                ) from exc

        return await run_off_loop(run)

    def _list_region_sync(self, region: str, status_checks: bool = True) -> RegionListing:
        with self._region_lock(region):
            try:
                instances = self._describe_instances(region)
            except AWS_FAILURES as exc:
                message = f"{region}: {describe_error(exc, self._endpoint_of('ec2', region))}"
                log.warning("EC2 listing failed: %s", message)
                return RegionListing(region=region, error=message)
            listing = RegionListing(region=region, instances=instances)
            if not instances:
                return listing
            try:
                if status_checks:
                    wanted = {i.instance_id for i in instances}
                    listing.statuses = self._describe_statuses(region, wanted)
                    listing.statuses_read = True
            except AWS_FAILURES as exc:
                listing.warnings.append(
                    f"{region}: status checks unavailable: {describe_error(exc)}"
                )
            try:
                listing.amis = self._describe_amis(region, instances)
            except AWS_FAILURES as exc:
                listing.warnings.append(f"{region}: AMI details unavailable: {describe_error(exc)}")
            for warning in listing.warnings:
                log.warning("%s", warning)
            return listing

    def _region_lock(self, region: str) -> threading.Lock:
        with self._client_lock:
            return self._region_locks.setdefault(region, threading.Lock())

    def _describe_instances(self, region: str) -> list[Ec2Instance]:
        paginator = self.client("ec2", region).get_paginator("describe_instances")
        pages = paginator.paginate(
            Filters=self.filters, PaginationConfig={"PageSize": EC2_PAGE_SIZE}
        )
        return [
            parse_instance(raw, region)
            for page in pages
            for reservation in page.get("Reservations", [])
            for raw in reservation.get("Instances", [])
        ]

    def _describe_statuses(self, region: str, wanted: set[str]) -> dict[str, InstanceStatus]:
        """One bulk, paginated call for the region (never per instance), kept to our instances.

        Filtering by instance ids would cap a call at 100 ids and fail whole when one id has
        just vanished; the region-wide listing has neither problem.
        """
        paginator = self.client("ec2", region).get_paginator("describe_instance_status")
        pages = paginator.paginate(
            IncludeAllInstances=True, PaginationConfig={"PageSize": EC2_PAGE_SIZE}
        )
        statuses = (parse_status(raw) for page in pages for raw in page.get("InstanceStatuses", []))
        return {s.instance_id: s for s in statuses if s.instance_id in wanted}

    def _describe_amis(self, region: str, instances: Iterable[Ec2Instance]) -> dict[str, AmiInfo]:
        """AMI details from the cache; one DescribeImages for all AMI ids not seen before.

        A filter on image-id (rather than ImageIds) returns what exists without failing on a
        deregistered AMI; ids EC2 no longer shows are cached as empty so they are not re-asked.
        """
        ami_ids = list(dict.fromkeys(i.image_id for i in instances if i.image_id))
        new_ids = [a for a in ami_ids if (region, a) not in self._ami_cache]
        if new_ids:
            ec2 = self.client("ec2", region)
            found: dict[str, AmiInfo] = {}
            for chunk in chunked(new_ids, IMAGE_IDS_PER_CALL):
                pages = ec2.get_paginator("describe_images").paginate(
                    Filters=[{"Name": "image-id", "Values": list(chunk)}],
                    IncludeDeprecated=True,
                )
                for page in pages:
                    for raw in page.get("Images", []):
                        info = parse_image(raw)
                        found[info.ami_id] = info
            for ami_id in new_ids:
                self._ami_cache[(region, ami_id)] = found.get(
                    ami_id, AmiInfo(ami_id, None, None, None)
                )
        return {a: self._ami_cache[(region, a)] for a in ami_ids}

    # -- CloudWatch (fallback; billed per metric requested) ------------------------------------

    async def cloudwatch_readings(
        self, region: str, instance_ids: list[str]
    ) -> dict[str, CloudWatchReading]:
        """Newest CPU, memory and disk per instance; raises `AwsReadError` on failure."""
        if not instance_ids:
            return {}
        return await run_off_loop(self._cloudwatch_sync, region, list(instance_ids))

    def _cloudwatch_sync(
        self, region: str, instance_ids: list[str]
    ) -> dict[str, CloudWatchReading]:
        collected_at = self._clock.now()
        try:
            agent = self._agent_dimensions(region, collected_at)
            queries = plan_queries(instance_ids, agent)
            cloudwatch = self.client("cloudwatch", region)
            start = collected_at - self._cw_lookback
            results: list[dict[str, Any]] = []
            for chunk in chunked(queries):
                pages = cloudwatch.get_paginator("get_metric_data").paginate(
                    MetricDataQueries=[q.to_api(self._cw_period) for q in chunk],
                    StartTime=start,
                    EndTime=collected_at,
                    ScanBy="TimestampDescending",
                )
                for page in pages:
                    results.extend(page.get("MetricDataResults", []))
        except AWS_FAILURES as exc:
            endpoint = self._endpoint_of("cloudwatch", region)
            raise AwsReadError(
                error_code(exc), f"{region}: CloudWatch: {describe_error(exc, endpoint)}"
            ) from exc
        return pick_readings(instance_ids, queries, newest_points(results), collected_at)

    def _agent_dimensions(self, region: str, now: Any) -> AgentDimensions:
        """CWAgent dimension sets for the region: ListMetrics when the cache is cold or old."""
        cached = self._agent_dims.get(region)
        if cached is not None and now - cached.fetched_at < self._cw_dims_ttl:
            return cached
        paginator = self.client("cloudwatch", region).get_paginator("list_metrics")
        fresh = AgentDimensions(fetched_at=now)
        for metric_name in AGENT_METRICS:
            pages = paginator.paginate(
                Namespace=AGENT_NAMESPACE,
                MetricName=metric_name,
                RecentlyActive=LIST_METRICS_RECENTLY_ACTIVE,
            )
            fresh.by_metric[metric_name] = index_agent_metrics(
                metric for page in pages for metric in page.get("Metrics", [])
            )
        self._agent_dims[region] = fresh
        return fresh

    # -- actions -------------------------------------------------------------------------------

    async def create_tags(self, region: str, instance_id: str, tags: dict[str, str]) -> None:
        """Write (create or overwrite) tags on one instance."""
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        await self._act(
            region,
            [instance_id],
            "CreateTags",
            lambda ec2: ec2.create_tags(Resources=[instance_id], Tags=tag_list),
        )

    async def stop_instance(self, region: str, instance_id: str) -> str:
        """Stop one instance; returns the state EC2 reports in the response (e.g. "stopping")."""
        return (await self.stop_instances(region, [instance_id]))[instance_id]

    async def stop_instances(self, region: str, instance_ids: list[str]) -> dict[str, str]:
        """Stop several instances of one region in one call; the state EC2 reports for each."""
        response = await self._act(
            region,
            instance_ids,
            "StopInstances",
            lambda ec2: ec2.stop_instances(InstanceIds=list(instance_ids)),
        )
        return _current_states(response, "StoppingInstances", instance_ids)

    async def start_instance(self, region: str, instance_id: str) -> str:
        """Start one instance; returns the state EC2 reports in the response (e.g. "pending")."""
        response = await self._act(
            region,
            [instance_id],
            "StartInstances",
            lambda ec2: ec2.start_instances(InstanceIds=[instance_id]),
        )
        return _current_states(response, "StartingInstances", [instance_id])[instance_id]

    async def instances_now(self, region: str, instance_ids: list[str]) -> dict[str, Ec2Instance]:
        """A few instances as EC2 shows them now (state and tags; one DescribeInstances), read
        just before an action is sent so that a change made meanwhile by someone else is not
        overwritten. An instance EC2 no longer lists is missing from the answer."""

        def describe(ec2: Any) -> dict[str, Any]:
            return ec2.describe_instances(InstanceIds=list(instance_ids))

        response = await self._act(region, instance_ids, "DescribeInstances", describe)
        wanted = set(instance_ids)
        found: dict[str, Ec2Instance] = {}
        for reservation in response.get("Reservations", []):
            for raw in reservation.get("Instances", []):
                if raw.get("InstanceId") in wanted:
                    found[raw["InstanceId"]] = parse_instance(raw, region)
        return found

    async def _act(
        self, region: str, instance_ids: list[str], operation: str, call: Callable[[Any], T]
    ) -> T:
        def run() -> T:
            try:
                return call(self.client("ec2", region))
            except AWS_FAILURES as exc:
                reason = describe_error(exc, self._endpoint_of("ec2", region))
                who = ", ".join(instance_ids)
                raise AwsActionError(
                    error_code(exc), f"{operation} {who} ({region}): {reason}"
                ) from exc

        return await run_off_loop(run)


def _current_states(response: dict[str, Any], key: str, instance_ids: list[str]) -> dict[str, str]:
    states = {i: "unknown" for i in instance_ids}
    for change in response.get(key, []):
        if change.get("InstanceId") in states:
            states[change["InstanceId"]] = str(
                change.get("CurrentState", {}).get("Name", "unknown")
            )
    return states
