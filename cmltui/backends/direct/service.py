"""The core service: one owner of the collector and idle-checker schedules and both channels.

`cmltui run`, `cmltui demo` and `cmltui snapshot` all build one; only the way its
core is opened differs (AWS as configured, or the simulated fleet first). The dashboard talks
to it through `cmltui.api.backend.Backend` and runs no collection of its own. Plain asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmltui.api.backend import (
    ActionRefused,
    AuditEntry,
    BackendContext,
    SourceStatus,
)
from cmltui.api.channels import Channels
from cmltui.api.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    LabChanged,
    LicenceChanged,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.api.health import CollectorHealth
from cmltui.audit import default_audit_path, read_entries
from cmltui.backends.direct.requests import request_line
from cmltui.config import Config
from cmltui.domain.intervals import Cadence
from cmltui.domain.rules import ActionKind, LabVerb

if TYPE_CHECKING:  # imported off the event loop, after the dashboard's first frame (`open`)
    from cmltui.backends.direct.actions import Actions
    from cmltui.backends.direct.wiring import Core

log = logging.getLogger(__name__)

Progress = Callable[..., None]
"""`progress(text, fraction=None)`: what the opener is doing, and how far (0..1) when known."""
CoreOpener = Callable[[Cadence, Progress], Awaitable["Core"]]
"""Builds the core (and starts whatever it talks to), reporting progress in words."""

CORE_MODULES: tuple[str, ...] = ("cmltui.backends.direct.wiring",)
"""What opening the core imports (boto3, aiohttp, the sources): loaded on a worker thread, so
that building the service costs nothing and the dashboard paints before they load."""

RETRY_CAP_SECONDS = 300.0
OPERATOR_WAIT_SECONDS = 10.0  # a command waits this long for STS to name the operator
PRICE_WAIT_SECONDS = 15.0  # `snapshot` waits this long for Pricing API reads it started


class CoreService(Channels):
    """Runs the collector loop and the idle-checker loop and publishes both channels."""

    def __init__(
        self,
        *,
        config: Config,
        context: BackendContext,
        opener: CoreOpener,
        label: str,
        preload: tuple[str, ...] = CORE_MODULES,
    ) -> None:
        self.config = config
        self.context = context
        self.cadence = Cadence(config.intervals.collector)
        self._opener = opener
        self._preload = preload
        self.core: Core | None = None
        self._open_lock = asyncio.Lock()
        self._cycle_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._refresh_requested = False
        self._tasks: list[asyncio.Task[None]] = []
        self._idle_task: asyncio.Task[None] | None = None
        self._checks: set[asyncio.Task[list[ActivityEvent]]] = set()  # idle checks asked at once
        self._running = False
        super().__init__(label)
        self.failures = 0  # consecutive cycles in which no region could be listed
        self._health = CollectorHealth()

    def _set_status(
        self,
        state: str,
        detail: str | None = None,
        retry_in: float | None = None,
        progress: float | None = None,
    ) -> None:
        now = self.core.clock.now() if self.core is not None else None
        retry_at = now + timedelta(seconds=retry_in) if now and retry_in else None
        self.publish_status(SourceStatus(self.status.label, state, detail, retry_at, progress))

    # -- interval ------------------------------------------------------------------------------

    @property
    def interval(self) -> float:
        return self.cadence.seconds

    def set_interval(self, seconds: float) -> float:
        """`next_refresh_at` and `poll_interval` follow from the next cycle on."""
        applied = self.cadence.set(seconds)
        self._wake.set()
        return applied

    # -- life cycle ----------------------------------------------------------------------------

    async def open(self) -> Core:
        """Build the core once (the demo starts its simulated fleet here)."""
        async with self._open_lock:
            if self.core is None:
                self._set_status("starting")
                # Heavy imports off the loop: the screen stays live while they load.
                for module in self._preload:
                    await asyncio.to_thread(importlib.import_module, module)
                core = await self._opener(
                    self.cadence,
                    lambda text, done=None: self._set_status("starting", text, progress=done),
                )
                core.activity.add(self.activity.publish)
                core.warnings.add(self.warnings.publish)
                self.core = core
                self._set_status("starting", "reading the fleet for the first time…")
            return self.core

    async def start(self) -> None:
        """Start the schedules in the background; returns at once."""
        self._running = True
        self._tasks.append(asyncio.create_task(self._run(), name="cmltui-collector"))

    def refresh_now(self) -> None:
        self._refresh_requested = True
        self._wake.set()

    async def close(self) -> None:
        self._running = False
        tasks: list[asyncio.Task[Any]] = [*self._tasks, *self._checks]
        if self._idle_task is not None:
            tasks.append(self._idle_task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._idle_task = None
        if self.core is not None:
            await self.core.close()
            self.core = None

    # -- the collector schedule ----------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self.open()
        except Exception as exc:  # e.g. the simulated fleet could not start
            log.exception("could not start the source")
            self._set_status("error", f"could not start: {exc}")
            return
        loop = asyncio.get_running_loop()
        first_look = True  # until a cycle lists workers: their rows first, the rest right after
        while True:
            started = loop.time()
            snapshot = await self._cycle(first_look=first_look)
            if first_look and snapshot is not None and snapshot.workers:
                # The first look left the slow facts due: read them now, not an interval later
                # (that cycle also serves a refresh asked for meanwhile).
                first_look = self._refresh_requested = False
                continue
            delay = self._next_delay()
            while True:
                self._wake.clear()
                remaining = started + delay - loop.time()
                if self._refresh_requested or remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), remaining)
                delay = self._next_delay()  # the interval may have changed meanwhile
            self._refresh_requested = False

    def _next_delay(self) -> float:
        """The interval; after cycles that listed no region, doubling up to a cap."""
        interval = self.cadence.seconds
        if self.failures == 0:
            return interval
        return min(max(RETRY_CAP_SECONDS, interval), interval * 2 ** min(self.failures - 1, 8))

    async def collect(self) -> FleetSnapshot | None:
        """One collector cycle, published on the snapshot channel; never raises.

        A cycle already running absorbs this call: one more cycle follows it.
        """
        return await self._cycle()

    async def _cycle(self, *, first_look: bool = False) -> FleetSnapshot | None:
        """`collect`, or the opening first look (`Collector.collect` says what it reads)."""
        if self._cycle_lock.locked():
            self._refresh_requested = True
            return None
        async with self._cycle_lock:
            core = await self.open()
            from cmltui.backends.direct.health import CycleMeter  # loaded with the core

            cycle = CycleMeter(core)
            try:
                snapshot = await core.collector.collect(first_look=first_look)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("collection cycle failed: %s", exc, exc_info=True)
                self.failures += 1
                self._health = cycle.ended(self._health, listed=False)
                self._set_status("retrying", f"collection failed: {exc}", self._next_delay())
                return None
            self._note_outcome(core, snapshot)
            self._health = cycle.ended(self._health, listed=self.failures == 0)
            self.snapshots.publish(snapshot)
            if snapshot.workers and self._running and self._idle_task is None:
                self._idle_task = asyncio.create_task(self._idle_loop(core), name="cmltui-idle")
            return snapshot

    def _note_outcome(self, core: Core, snapshot: FleetSnapshot) -> None:
        if snapshot.listed_nothing(self.context.listing_count):
            self.failures += 1
            self._set_status("retrying", "; ".join(snapshot.errors), self._next_delay())
        else:
            self.failures = 0
            self._set_status("ok", "; ".join(snapshot.errors) or None)

    def collector_health(self) -> CollectorHealth:
        """How the collector is doing, as of the last cycle that ended (never starts one)."""
        return self._health

    async def snapshot_once(self) -> FleetSnapshot:
        """`cmltui snapshot`: collect, read telemetry once (so idle figures are real), collect.

        The first pass finds the workers and their CML endpoints; the idle checker needs both.
        It only reads: a snapshot (or a command's `--dry-run`) never auto-pauses.
        """
        core = await self.open()
        first = await core.collector.collect()
        if not first.workers:
            return first
        await core.idle_checker.check_due(act=False)
        if core.prices is not None:  # prices the first pass asked the Pricing API for
            await core.prices.settle(PRICE_WAIT_SECONDS)
        return await core.collector.collect()

    # -- the idle checker schedule -------------------------------------------------------------

    async def _idle_loop(self, core: Core) -> None:
        checker = core.idle_checker
        first_round = True
        while True:
            try:
                await checker.check_due()
            except Exception:  # the loop must outlive one bad check
                log.exception("idle check failed")
            if first_round:
                # Every worker's activity was just read for the first time: collect now, so
                # the idle figures stop being unknown within seconds, not an interval later.
                first_round = False
                self.refresh_now()
            await asyncio.sleep(checker.tick_seconds)

    async def audit_entries(self, worker_id: str, limit: int = 50) -> list[AuditEntry]:
        """This worker's newest audit entries, read on a worker thread (the file may be big)."""
        path = self._audit_path()
        return await asyncio.to_thread(read_entries, path, worker_id, limit)

    def _audit_path(self) -> Path:
        if self.core is not None:
            return self.core.actions.audit.path
        return default_audit_path(demo=self.context.demo)

    # -- actions (each publishes its own minimal event on the core's activity channel) --------

    def _actions(self) -> Actions:
        return self._core().actions

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        return await self._actions().toggle_idle_detection(worker_id, shown_enabled)

    async def pause(self, worker_id: str) -> WorkerPaused:
        return await self._actions().pause(worker_id)

    async def resume(self, worker_id: str) -> WorkerResumed:
        return await self._actions().resume(worker_id)

    async def pause_many(self, worker_ids: list[str]) -> list[WorkerPaused]:
        return await self._actions().pause_many(worker_ids)

    async def lab_action(self, worker_id: str, lab_id: str, verb: LabVerb) -> LabChanged:
        core = self._core()
        event = await core.cml_actions.lab_action(worker_id, lab_id, verb)
        self._read_again(core, worker_id)
        return event

    async def register_licence(
        self, worker_id: str, token: str, *, reregister: bool = False
    ) -> LicenceChanged:
        core = self._core()
        return await core.cml_actions.register_licence(worker_id, token, reregister=reregister)

    async def deregister_licence(self, worker_id: str) -> LicenceChanged:
        return await self._core().cml_actions.deregister_licence(worker_id)

    def _read_again(self, core: Core, worker_id: str) -> None:
        """After a lab changed: the labs list (a collection) and the idle checker (its
        telemetry, where the lab's events are) read the worker at once, not at their cadence."""
        if not self._running:
            return  # a command: nothing on screen to bring up to date
        self.refresh_now()
        worker = core.registry.get(worker_id)
        if worker is not None:
            task = asyncio.create_task(core.idle_checker.check_worker(worker))
            self._checks.add(task)
            task.add_done_callback(self._checks.discard)

    async def prepare_actions(self) -> FleetSnapshot:
        """One whole snapshot (idle figures real, for `pause --idle`), then the operator's name
        from STS, which an action records (waited for briefly; the local user otherwise)."""
        snapshot = await self.snapshot_once()
        core = await self.open()
        deadline = time.monotonic() + OPERATOR_WAIT_SECONDS
        for lookup in core.operator_lookups:  # one per account, all started at once
            await asyncio.to_thread(lookup.join, max(0.0, deadline - time.monotonic()))
        return snapshot

    def request_text(
        self,
        kind: ActionKind,
        worker_id: str,
        *,
        lab_id: str | None = None,
        enable: bool | None = None,
    ) -> str:
        core = self._core()
        worker = core.registry.get(worker_id)
        region = worker.region if worker is not None else "?"
        url = (worker.https_endpoint if worker is not None else None) or "its CML"
        return request_line(kind, worker_id, region, url, lab_id=lab_id, enable=enable)

    def _core(self) -> Core:
        if self.core is None:
            raise ActionRefused("the fleet is still being read; try again in a moment")
        return self.core


def aws_service(config: Config) -> CoreService:
    """`cmltui run` and `cmltui snapshot`: the core over AWS as the config says."""

    async def open_core(cadence: Cadence, progress: Progress) -> Core:
        from cmltui.backends.direct.wiring import Endpoints, build_core

        return build_core(config, Endpoints(), cadence=cadence)

    regions = config.aws.all_regions()
    sources = config.aws.account_sources()
    accounts = tuple(source.name for source in sources if source.name is not None)
    context = BackendContext(
        profile=config.aws.profile,
        regions=regions,
        read_only=config.read_only,
        tls_verified=config.cml.verify_tls,
        accounts=accounts,
        listings=sum(len(source.regions) for source in sources),
    )
    who = f"accounts {', '.join(accounts)}" if accounts else None
    label = f"aws {who or config.aws.profile or 'default credentials'} · {', '.join(regions)}"
    return CoreService(config=config, context=context, opener=open_core, label=label)
