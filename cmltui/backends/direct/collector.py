"""The collector: the one job that produces full worker snapshots.

Each cycle lists the fleet from EC2 (batched), asks every running worker's CML API (pooled,
bounded), falls back to CloudWatch only where CML stats are missing or stale, updates the shared
registry, and maps every worker through `map_worker_to_dto` into a `FleetSnapshot` stamped with
the time the cycle started.

What is read how often (README, "What is read how often"): every cycle, `/system_stats` of each
running worker and the EC2 listing; health, system information, the lab ids, lab details,
licensing, users and the EC2 status checks on their own cadences (`[intervals]`). A slow fact is
read at once when something suggests it changed: the stats call fails or its node counts change,
the worker's state changes, an action completes or a resume (`read_soon`).

A first look (`collect(first_look=True)`, the service's opening cycle) reads only what a row
needs: the listing, and each running worker's stats, system information and health. Whatever
else is due (the slow reads, the EC2 status checks, CloudWatch) stays due for the next cycle,
which the service runs at once (README, "What is read how often").
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from cmltui.api.events import ActivityEvent, FleetSnapshot
from cmltui.backends.direct import observed
from cmltui.backends.direct.savings import SavingsLedger
from cmltui.backends.direct.targets import CMLTargetResolver
from cmltui.clock import Clock
from cmltui.config import Config
from cmltui.domain.accounts import worker_key
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.freshness import cloudwatch_max_age
from cmltui.domain.history import derive_external, known_history
from cmltui.domain.idle import IdleSettings
from cmltui.domain.intervals import Cadence
from cmltui.domain.prices import PriceLookup
from cmltui.domain.registry import WorkerRegistry
from cmltui.domain.sanitize import error_text
from cmltui.domain.settle import merge_tags, settle_fields, settle_status
from cmltui.domain.status import (
    CMLOutcome,
    CMLReach,
    license_operation,
    license_time_problems,
)
from cmltui.domain.tags import (
    LAST_PAUSED_AT,
    LAST_RESUMED_AT,
    NAME_TAG,
    history_from_tags,
    tag_time_problems,
    worker_name,
)
from cmltui.domain.transitions import apply_status
from cmltui.domain.worker import AmiFacts, CMLWorker, LabSummary, MetricReading
from cmltui.gcpolicy import freeze_long_lived
from cmltui.mapper import MapContext, map_worker_to_dto
from cmltui.sources.aws import AwsError, AwsSource, RegionListing
from cmltui.sources.aws_accounts import AwsAccounts
from cmltui.sources.aws_cloudwatch import CloudWatchReading
from cmltui.sources.aws_ec2 import Ec2Instance, InstanceStatus
from cmltui.sources.cml_client import CMLClient, CMLCycleResult, CMLTarget
from cmltui.sources.cml_models import LabResponse, LicensingStatus

log = logging.getLogger(__name__)


#: The slow-cadence CML reads, each with the `[intervals]` key that paces it.
SLOW_READS: dict[str, str] = {
    "system_information": "system_information",
    "health": "health",
    "lab_ids": "lab_ids",
    "labs": "lab_details",  # titles, owners, states; also when the ids or node counts change
    "licensing": "licensing",
    "users": "users",
}
FIRST_LOOK_READS = frozenset({"system_information", "health"})
"""The slow reads a first look makes besides the stats: what a row's CML status rests on
(ready or not, health valid or not)."""


@dataclass
class _CMLSchedule:
    """When each slow CML read of a worker is next due, and whether all are due at once."""

    next_at: dict[str, datetime] = field(default_factory=dict)
    read_all: bool = True  # first sight, not running, no answer, or `read_soon`
    was_running: bool = False

    def due(self, now: datetime) -> set[str]:
        if self.read_all:
            return set(SLOW_READS)
        next_at = self.next_at
        return {read for read in SLOW_READS if read not in next_at or now >= next_at[read]}

    def done(self, reads: set[str], now: datetime, every: dict[str, float], worker_id: str) -> None:
        """Reads made: next due a cadence later. A worker's first reads are staggered."""
        for read in reads:
            seconds = every[read]
            if read not in self.next_at:
                # Spread the fleet over the cadence so one cycle does not re-read everyone.
                seconds *= 0.5 + 0.5 * _fraction(worker_id, read)
            self.next_at[read] = now + timedelta(seconds=seconds)


@dataclass
class CollectorState:
    """What the collector remembers between cycles (besides the registry)."""

    schedules: dict[str, _CMLSchedule] = field(default_factory=dict)
    targets: dict[str, CMLTarget] = field(default_factory=dict)
    status_checks_next_at: datetime | None = None  # EC2 DescribeInstanceStatus
    status_checks_soon: bool = False
    seen_status: dict[str, WorkerStatus] = field(default_factory=dict)


class Collector:
    """Produces `FleetSnapshot`s. Knows nothing of Textual or of the demo."""

    def __init__(
        self,
        *,
        config: Config,
        aws: AwsSource | AwsAccounts,
        cml: CMLClient,
        registry: WorkerRegistry,
        clock: Clock,
        targets: CMLTargetResolver,
        cadence: Cadence | None = None,
        prices: PriceLookup | None = None,
        ledger: SavingsLedger | None = None,
        publish: Callable[[ActivityEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.prices = prices or config.price_table()
        self.ledger = ledger
        # The activity channel: changes seen on AWS that this cmltui did not make (`observed`).
        self.publish = publish or (lambda _event: None)
        self.aws = AwsAccounts.of(aws)
        self.cml = cml
        self.registry = registry
        self.clock = clock
        self._targets = targets
        self._state = CollectorState()
        self.cadence = cadence or Cadence(config.intervals.collector)
        self._lock = asyncio.Lock()
        self.cycles = 0
        self._gc_frozen = False

    # -- interval ------------------------------------------------------------------------------

    @property
    def interval(self) -> float:
        """The collection interval, read from the one `Cadence` the service also holds."""
        return self.cadence.seconds

    def map_context(self, now: datetime, next_refresh_at: datetime | None = None) -> MapContext:
        return MapContext(
            now=now,
            idle=self.config.idle_settings(),
            poll_interval=self.interval,
            next_refresh_at=next_refresh_at,
            boot_grace=timedelta(minutes=self.config.idle.boot_grace_minutes),
            prices=self.prices,
            audited=self.ledger.by_worker if self.ledger is not None else {},
            cloudwatch_max_age=cloudwatch_max_age(self.config.intervals.cloudwatch),
        )

    def target_for(self, worker_id: str) -> CMLTarget | None:
        """The CML target of a worker seen in the last cycle (used by the idle checker)."""
        return self._state.targets.get(worker_id)

    def read_soon(self, worker_id: str) -> None:
        """Read everything slow about this worker on the next cycle, off-cadence.

        For whoever knows something changed: an action that completed (toggle, pause, resume),
        a resume. The EC2 status checks are read on the next cycle too.
        """
        self._state.schedules.setdefault(worker_id, _CMLSchedule()).read_all = True
        self._state.status_checks_soon = True

    # -- the cycle -----------------------------------------------------------------------------

    async def collect(self, *, first_look: bool = False) -> FleetSnapshot:
        """One full cycle. Never runs concurrently with itself.

        `first_look`: the fleet's rows as soon as possible (the module's docstring says what
        is read); what it leaves is due on the next cycle.
        """
        async with self._lock:
            started = self.clock.now()
            status_checks = self._status_checks_due(started) and not first_look
            listings = await self.aws.list_fleet(status_checks=status_checks)
            region_errors = [listing.error for listing in listings if listing.error]
            settings = self.config.idle_settings()
            for listing in listings:
                self._apply_listing(listing, started, settings)
            await self._follow_status_changes(listings, started)
            # Prices the fleet uses are read in the background; this cycle shows what is known.
            self.prices.want(
                {(w.region, w.instance_type) for w in self.registry if w.instance_type}
            )
            if self.ledger is not None:
                await self.ledger.ensure_loaded()
            await self._collect_cml(started, first_look=first_look)
            if not first_look:
                await self._collect_cloudwatch(started)
            next_refresh = started + timedelta(seconds=self.interval)
            ctx = self.map_context(started, next_refresh)
            dtos = []
            for worker in sorted(self.registry, key=lambda w: (w.name.lower(), w.key)):
                worker.collected_at = started
                _note_change(worker, started)
                dtos.append(map_worker_to_dto(worker, ctx))
            snapshot = FleetSnapshot(
                collected_at=started,
                next_refresh_at=next_refresh,
                workers=tuple(dtos),
                errors=tuple(region_errors),
            )
            self.cycles += 1
            if not first_look and not self._gc_frozen:
                # Clients, caches and parsed models built by the first whole cycle live for the
                # run (rescanning them was half the collector's CPU at 1000 workers).
                self._gc_frozen = True
                freeze_long_lived()
            return snapshot

    # -- EC2 -----------------------------------------------------------------------------------

    def _apply_listing(self, listing: RegionListing, now: datetime, settings: IdleSettings) -> None:
        scope = (listing.account, listing.region)
        if listing.error:
            # That account's region only: its rows stay as they were, marked stale.
            for worker in self.registry:
                if (worker.account, worker.region) == scope:
                    worker.errors["ec2"] = listing.error
            return
        seen: set[str] = set()
        for instance in listing.instances:
            worker = self.registry.get_or_create(
                instance.instance_id, listing.region, listing.account
            )
            seen.add(worker.key)
            status = listing.statuses.get(instance.instance_id)
            before = observed.seen(worker) if worker.ec2_last_checked_at is not None else None
            self._apply_instance(worker, instance, status, listing, now)
            if before is not None and worker.pending_status is None:  # not our own, in flight
                for event in observed.changes(before, worker, settings, now):
                    self.publish(event)
        self.registry.retain_only(seen, {scope})
        for key in list(self._state.schedules):
            if key not in self.registry:
                self._state.schedules.pop(key, None)
                self._state.targets.pop(key, None)

    def _apply_instance(
        self,
        worker: CMLWorker,
        instance: Ec2Instance,
        status: InstanceStatus | None,
        listing: RegionListing,
        now: datetime,
    ) -> None:
        settle = timedelta(seconds=self.config.idle.settle_seconds)
        worker.tags = merge_tags(dict(instance.tags), worker.pending_tags, now, settle)
        worker.name = worker_name(worker.tags.get(NAME_TAG), instance.instance_id)
        worker.instance_type = instance.instance_type
        worker.launch_time = instance.launch_time
        worker.created_at = instance.root_volume_attach_time or instance.launch_time
        worker.ami_id = instance.image_id
        ami = listing.amis.get(instance.image_id or "")
        worker.ami = AmiFacts(ami.name, ami.description, ami.creation_date) if ami else worker.ami
        worker.ec2_state_detail = instance.state_transition_reason or None
        worker.ec2_state_transition_at = instance.state_transition_time
        worker.ec2_last_checked_at = now
        if status is not None:
            worker.ec2_system_status_check = status.system_status
            worker.ec2_instance_status_check = status.instance_status
        worker.cloudwatch.detailed_monitoring_enabled = (
            instance.monitoring_state == "enabled" if instance.monitoring_state else None
        )
        new_status, worker.pending_status = settle_status(
            WorkerStatus.from_ec2(instance.state), worker.pending_status, now, settle
        )
        apply_status(worker, new_status, observed_at=now)
        if new_status is WorkerStatus.TERMINATED:
            worker.terminated_at = worker.terminated_at or instance.state_transition_time or now
        if new_status not in (WorkerStatus.STOPPED, WorkerStatus.TERMINATED):
            worker.public_ip = instance.public_ip
            worker.private_ip = instance.private_ip
            worker.public_dns = instance.public_dns
            worker.private_dns = instance.private_dns
            worker.https_endpoint = endpoint = self._targets.base_url(instance)
            worker.https_endpoint_refusal = (
                self._targets.refusal(instance, endpoint) if endpoint else None
            )
        tagged = history_from_tags(worker.tags, now)
        _note_problem(worker, "tags", tag_time_problems(worker.tags, tagged))
        worker.history = derive_external(worker, known_history(tagged, worker.unwritten_history))
        for name, tag in (("last_paused_at", LAST_PAUSED_AT), ("last_resumed_at", LAST_RESUMED_AT)):
            unknown = getattr(worker.history, name) is None and bool(worker.tags.get(tag))
            _mark_unknown(worker, name, unknown)
        worker.errors.pop("ec2", None)
        if worker.is_running and worker.https_endpoint:
            self._state.targets[worker.key] = self._targets.target(
                instance, worker.https_endpoint, worker.key
            )
        else:
            self._state.targets.pop(worker.key, None)

    # -- EC2 status checks (a slower cadence) ---------------------------------------------------

    def _status_checks_due(self, now: datetime) -> bool:
        next_at = self._state.status_checks_next_at
        return self._state.status_checks_soon or next_at is None or now >= next_at

    async def _follow_status_changes(self, listings: list[RegionListing], now: datetime) -> None:
        """Date the status checks read with the listing; read them at once on a state change."""
        seen = self._state.seen_status
        changed: dict[tuple[str | None, str], list[CMLWorker]] = {}
        for listing in listings:
            if listing.error:
                continue
            if listing.statuses_read:
                self._state.status_checks_next_at = now + timedelta(
                    seconds=self.config.intervals.status_checks
                )
                self._state.status_checks_soon = False
            for instance in listing.instances:
                worker = self.registry.get(worker_key(listing.account, instance.instance_id))
                if worker is None:
                    continue
                if listing.statuses_read:
                    worker.ec2_status_checked_at = now
                elif seen.get(worker.key, worker.status) is not worker.status:
                    changed.setdefault((listing.account, listing.region), []).append(worker)
                seen[worker.key] = worker.status
        for key in [k for k in seen if k not in self.registry]:
            del seen[key]
        for (account, region), workers in changed.items():
            try:
                statuses = await self.aws.source(account).status_checks(
                    region, [w.instance_id for w in workers]
                )
            except AwsError as exc:
                log.warning("status checks after a state change failed: %s", exc)
                continue
            for worker in workers:
                status = statuses.get(worker.instance_id)
                if status is not None:
                    worker.ec2_system_status_check = status.system_status
                    worker.ec2_instance_status_check = status.instance_status
                    worker.ec2_status_checked_at = now

    # -- CML -----------------------------------------------------------------------------------

    async def _collect_cml(self, now: datetime, *, first_look: bool = False) -> None:
        jobs = []
        for worker in self.registry:
            if not worker.is_running:
                # Whatever it was, the first cycle in which CML answers after a start reads all.
                schedule = self._state.schedules.setdefault(worker.key, _CMLSchedule())
                schedule.read_all = True
                if schedule.was_running:
                    # A stopped CML forgets its sessions: log in afresh once it is back.
                    self.cml.forget([worker.key])
                    schedule.was_running = False
                continue
            target = self._state.targets.get(worker.key)
            if target is None:
                worker.cml.outcome = CMLOutcome(CMLReach.NO_ANSWER)
                worker.errors["cml"] = "no CML address (no public IP and no cmltui:cml-url tag)"
                continue
            jobs.append(self._collect_one(worker, target, now, first_look=first_look))
        await asyncio.gather(*jobs)

    async def _collect_one(
        self, worker: CMLWorker, target: CMLTarget, now: datetime, *, first_look: bool = False
    ) -> None:
        """`/system_stats`, plus whatever slow read is due; more at once when stats say so."""
        schedule = self._state.schedules.setdefault(worker.key, _CMLSchedule())
        schedule.was_running = True
        due = schedule.due(now)
        if first_look:
            due &= FIRST_LOOK_READS  # the rest stays due: the next cycle reads it
        else:
            if worker.cml.labs is None:
                due |= {"lab_ids", "labs"}
            if license_operation(worker.cml.licensing) is not None:
                due.add("licensing")  # a registration under way: followed every cycle until done
        before = _node_counts(worker.cml.system_info)
        deadline = self.config.cml.worker_deadline
        result = CMLCycleResult()
        try:
            # One deadline for all of this worker's calls: at the deadline the snapshot goes
            # out with what had arrived; the late parts keep their last values, marked stale.
            async with asyncio.timeout(deadline):
                if first_look:
                    await self._first_look(worker, target, due, result)
                else:
                    await self._whole_look(worker, target, due, before, result)
        except TimeoutError:
            log.info("CML %s: cut short at the %g s deadline", worker.key, deadline)
            result.cut_short(deadline)
        except Exception as exc:  # a bug in one worker's parsing must not blank the others
            log.exception("CML cycle failed for %s", worker.key)
            result = CMLCycleResult(errors={"cycle": f"internal error: {type(exc).__name__}"})
        _apply_cml(worker, result, now, timedelta(seconds=self.config.idle.settle_seconds))
        if result.reachable:
            made = {read for read in due if _read_answered(result, read)}
            info = result.system_information
            if info is not None and info.ready is False:
                made.discard("system_information")  # still starting: ask again next cycle
            schedule.done(made, now, self._cadences(), worker.key)
            for read in due - made:
                schedule.next_at[read] = now  # not answered: due again on the next cycle
            schedule.read_all = False
        else:
            schedule.read_all = True  # after an outage, everything is read at the first answer

    async def _whole_look(
        self,
        worker: CMLWorker,
        target: CMLTarget,
        due: set[str],
        nodes_before: tuple[object, object] | None,
        result: CMLCycleResult,
    ) -> None:
        """The stats and the due reads side by side, then more at once when the stats say so;
        what is read more is added to `due` (the schedule counts it as read)."""
        await self._fetch(worker, target, due, stats=True, result=result)
        if result.reachable and result.system_info is not None:
            counts = _node_counts(result.system_info)
            if nodes_before is not None and counts != nodes_before and "labs" not in due:
                # Nodes started or stopped: a lab changed state (or appeared): read now.
                due |= {"lab_ids", "labs"}
                await self._fetch(worker, target, {"lab_ids", "labs"}, result=result)
        elif result.reachable and "health" not in due:
            # The API answers but the stats call failed: health says what is wrong.
            due |= {"health", "lab_ids"}
            await self._fetch(worker, target, {"health", "lab_ids"}, result=result)

    async def _first_look(
        self, worker: CMLWorker, target: CMLTarget, due: set[str], result: CMLCycleResult
    ) -> None:
        """The stats (and system information), then health: one call after another, so that
        the worker's calls share one connection (a second costs a TLS handshake) until the
        next cycle's slow reads."""
        await self._fetch(worker, target, due - {"health"}, stats=True, result=result)
        if result.reachable and "health" in due:
            await self._fetch(worker, target, {"health"}, result=result)

    async def _fetch(
        self,
        worker: CMLWorker,
        target: CMLTarget,
        reads: set[str],
        *,
        result: CMLCycleResult,
        stats: bool = False,
    ) -> None:
        """One round of reads into `result` (a second round adds to the first)."""
        known = [lab.id for lab in worker.cml.labs] if worker.cml.labs is not None else None
        await self.cml.fetch_cycle(
            target,
            want_stats=stats,
            want_system_information="system_information" in reads,
            want_health="health" in reads,
            want_lab_ids="lab_ids" in reads,
            want_labs="labs" in reads,
            want_licensing="licensing" in reads,
            want_users="users" in reads,
            known_lab_ids=known,
            result=result,
        )

    def _cadences(self) -> dict[str, float]:
        intervals = self.config.intervals
        return {read: float(getattr(intervals, key)) for read, key in SLOW_READS.items()}

    # -- CloudWatch (a fallback that costs money) ----------------------------------------------

    async def _collect_cloudwatch(self, now: datetime) -> None:
        period = self.config.intervals.cloudwatch
        stale_after = timedelta(seconds=max(2 * self.interval, 30))
        by_scope: dict[tuple[str | None, str], list[CMLWorker]] = {}
        for worker in self.registry:
            if not worker.is_running:
                continue
            fresh = (
                worker.cml.system_info is not None
                and worker.cml.stats_synced_at is not None
                and now - worker.cml.stats_synced_at <= stale_after
            )
            if fresh or not _due(worker.cloudwatch.last_collected_at, period, now):
                continue
            by_scope.setdefault((worker.account, worker.region), []).append(worker)
        if not by_scope:
            return
        results = await asyncio.gather(
            *(
                self.aws.source(account).cloudwatch_readings(
                    region, [w.instance_id for w in workers]
                )
                for (account, region), workers in by_scope.items()
            ),
            return_exceptions=True,
        )
        for workers, outcome in zip(by_scope.values(), results, strict=True):
            for worker in workers:
                if isinstance(outcome, BaseException):
                    worker.errors["cloudwatch"] = _short(outcome)
                    continue
                _apply_cloudwatch(worker, outcome.get(worker.instance_id), now)


def _apply_cml(worker: CMLWorker, result: CMLCycleResult, now: datetime, settle: timedelta) -> None:
    cml = worker.cml
    if result.system_information is not None:
        cml.version = result.system_information.version
        cml.ready = result.system_information.ready
        cml.version_read_at = now
    if result.system_health is not None:
        if result.system_health is not cml.health_source:
            cml.health_source = result.system_health
            cml.system_health = result.system_health.model_dump(mode="json")
        cml.health_read_at = now
    if result.system_info is not None:
        cml.system_info = result.system_info
        cml.stats_synced_at = now
    if result.lab_ids is not None:
        cml.lab_ids = list(result.lab_ids)
        cml.labs_read_at = now
    if result.labs is not None:
        labs = [lab_summary(lab, cml.users) for lab in result.labs]
        cml.labs = settle_lab_states(worker, labs, now, settle)
    if result.licensing is not None:
        apply_licensing(worker, result.licensing, now)
    if result.users is not None:
        cml.users = {user.id: user.username for user in result.users if user.id}
        cml.users_read_at = now
    if not result.reachable:
        reach = CMLReach.NO_ANSWER
    elif result.complete:
        reach = CMLReach.FULL
        cml.last_synced_at = now
    else:
        reach = CMLReach.PARTIAL
    health = cml.system_health
    health_valid = health.get("valid") if isinstance(health, dict) else None
    cml.outcome = CMLOutcome(reach, health_valid if isinstance(health_valid, bool) else None)
    if result.errors:
        full = "; ".join(f"{k}: {v}" for k, v in result.errors.items())
        shown = error_text(full)
        if shown != full:
            log.info("CML %s errors: %s", worker.key, full)
        worker.errors["cml"] = shown
    else:
        worker.errors.pop("cml", None)


def lab_summary(lab: LabResponse, usernames: Mapping[str, str]) -> LabSummary:
    """What is kept of a lab CML described (the labs list, the detail screen)."""
    return LabSummary(
        id=lab.id,
        title=lab.lab_title or lab.id,
        owner=lab.owner,
        owner_username=lab.owner_username or usernames.get(lab.owner or ""),
        state=str(lab.state or "UNKNOWN"),
        node_count=lab.node_count,
    )


def settle_lab_states(
    worker: CMLWorker, labs: list[LabSummary], read_started: datetime, settle: timedelta
) -> list[LabSummary]:
    """The labs read, with the states cmltui's own lab actions set that a stale read cannot
    undo (the settle rule, as for tags and states)."""
    held = worker.pending_lab_states
    if not held:
        return labs
    read = {lab.id: lab.state for lab in labs}
    merged = settle_fields(read, held, read_started, settle)
    for lab_id in [k for k in held if k not in read]:
        del held[lab_id]  # the lab is gone: nothing to hold
    return [replace(lab, state=merged[lab.id]) for lab in labs]


def apply_licensing(worker: CMLWorker, licensing: LicensingStatus, now: datetime) -> None:
    """Keep the licensing object CML sent (a cycle's read, or one right after an action)."""
    cml = worker.cml
    if licensing is not cml.licensing_source:
        cml.licensing_source = licensing
        cml.licensing = licensing.as_public_dict()
        problem = license_time_problems(cml.licensing)
        _note_problem(worker, "licensing", problem)
        _mark_unknown(worker, "license_status", problem is not None)
    cml.licensing_read_at = now


def _node_counts(system_info: dict[str, Any] | None) -> tuple[object, object] | None:
    if system_info is None:
        return None
    return system_info.get("running_nodes"), system_info.get("total_nodes")


def _read_answered(result: CMLCycleResult, read: str) -> bool:
    value = {
        "system_information": result.system_information,
        "health": result.system_health,
        "lab_ids": result.lab_ids,
        "labs": result.labs,
        "licensing": result.licensing,
        "users": result.users,
    }[read]
    return value is not None


def _fraction(worker_id: str, read: str) -> float:
    """A stable number in [0, 1) per worker and read: where its cadence starts."""
    return zlib.crc32(f"{worker_id}/{read}".encode()) / 2**32


def _apply_cloudwatch(worker: CMLWorker, reading: CloudWatchReading | None, now: datetime) -> None:
    cw = worker.cloudwatch
    cw.last_collected_at = now
    worker.errors.pop("cloudwatch", None)
    if reading is None:
        cw.cpu = cw.memory = cw.disk = None
        return
    cw.cpu = MetricReading(reading.cpu.value, reading.cpu.timestamp) if reading.cpu else None
    cw.memory = (
        MetricReading(reading.memory.value, reading.memory.timestamp) if reading.memory else None
    )
    cw.disk = MetricReading(reading.disk.value, reading.disk.timestamp) if reading.disk else None


def _note_change(worker: CMLWorker, now: datetime) -> None:
    """`updated_at` moves only when an observed value changed (not bookkeeping times)."""
    fingerprint = hash(_observed(worker))
    if fingerprint != worker.observed_fingerprint:
        worker.observed_fingerprint = fingerprint
        worker.updated_at = now


def _observed(worker: CMLWorker) -> tuple[object, ...]:
    cml, cw = worker.cml, worker.cloudwatch
    info = cml.system_info or {}
    totals = tuple(value for key, value in info.items() if key != "computes")
    return (
        worker.status,
        worker.public_ip,
        worker.private_ip,
        worker.public_dns,
        worker.private_dns,
        worker.https_endpoint,
        tuple(sorted(worker.tags.items())),
        worker.ec2_system_status_check,
        worker.ec2_instance_status_check,
        worker.ec2_state_detail,
        cml.version,
        cml.ready,
        totals,
        cml.revision,
        tuple(cml.lab_ids or ()),
        tuple(cml.labs or ()),
        cml.outcome,
        None if cw.cpu is None else (cw.cpu.value, cw.cpu.timestamp),
        None if cw.memory is None else (cw.memory.value, cw.memory.timestamp),
        None if cw.disk is None else (cw.disk.value, cw.disk.timestamp),
        tuple(sorted(worker.errors.items())),
    )


def _note_problem(worker: CMLWorker, source: str, problem: str | None) -> None:
    """Show a problem with outside data on the worker (its errors), or clear an old one."""
    if problem is None:
        worker.errors.pop(source, None)
    else:
        worker.errors[source] = error_text(problem)


def _mark_unknown(worker: CMLWorker, field: str, unknown: bool) -> None:
    if unknown:
        worker.unknown_fields.add(field)
    else:
        worker.unknown_fields.discard(field)


def _due(last: datetime | None, every_seconds: float, now: datetime) -> bool:
    return last is None or (now - last).total_seconds() >= every_seconds


def _short(exc: BaseException) -> str:
    return error_text(str(exc) or type(exc).__name__)
