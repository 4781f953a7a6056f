"""A CML Cloud Manager as the source: its event stream feeds the two channels, its API acts.

The same `Backend` the dashboard gets from the AWS core: per-worker `worker.snapshot` payloads
(`CcmFleet`) go through the one mapper and are assembled into fleet snapshots, published at the
configured interval (or at once when a status changes or the initial set is complete). Besides
the stream, Cloud Manager's idle verdict and lab lists are read per worker (`FactReader`).
Cloud Manager's minimal events become cmltui's own activity events. What an event sets
(`EVENT_FIELDS`, the in-flight status of a pause or resume included) is held by the one settle
rule (`cmltui.domain.settle`), as on AWS: a snapshot sent before the event plus the settle time
never undoes it. Actions go through Cloud Manager's REST routes, under the same read-only mode,
in-flight guard and audit log as on AWS; their results come back as Cloud Manager's events.

An opener (`demo --ccm`) starts what the backend reads from, a simulated Cloud Manager, before
the first connection, and `close()` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import aiohttp

from cmltui.api.backend import (
    ActionFailed,
    ActionRefused,
    AuditEntry,
    BackendContext,
    SourceStatus,
)
from cmltui.api.channels import Channels
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    LicenceChanged,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.audit import AuditLog, read_entries
from cmltui.backends.ccm.api import (
    CcmApi,
    CcmError,
    check_regions,
    ssl_context,
)
from cmltui.backends.ccm.auth import TokenProvider
from cmltui.backends.ccm.events import (
    ACTIVITY_TYPES,
    CLOUD_MANAGER,
    LICENCE_TYPES,
    to_activity,
    to_licence_event,
    worker_id_of,
)
from cmltui.backends.ccm.fleet import CcmFleet, Entry, Stored
from cmltui.backends.ccm.kinds import KindCounter
from cmltui.backends.ccm.operations import CcmOperations
from cmltui.backends.ccm.readers import FactReader
from cmltui.backends.ccm.stream import CcmStream, StreamEvent, StreamState
from cmltui.ccm_facts import CcmLab, read_idle_status, read_labs
from cmltui.clock import Clock, SystemClock
from cmltui.config import Config, ConfigError
from cmltui.credentials import local_user
from cmltui.domain.addresses import UrlTrust
from cmltui.domain.intervals import clamp_interval
from cmltui.domain.rules import ActionKind, action_refusal
from cmltui.domain.sanitize import finite_count
from cmltui.domain.settle import EVENT_TIME_KEY
from cmltui.domain.times import not_ahead, parse_time
from cmltui.mapper import CcmMapContext, ccm_licence_status, ccm_status

log = logging.getLogger(__name__)

E = TypeVar("E", bound=ActivityEvent)

SNAPSHOT: Final = "worker.snapshot"
METRICS: Final = "worker.metrics.updated"
LABS: Final = "worker.labs.updated"
DEREGISTERED: Final = "worker.license.deregistered"
# Known and deliberately not acted on (upstream's `application/events/domain/`): each of the
# first six is followed by a `worker.snapshot`; the rest are notices about refresh jobs.
KNOWN_IGNORED: Final = frozenset(
    {
        "worker.created",
        "worker.imported",
        "worker.terminated",
        "worker.status.updated",
        "worker.endpoint.updated",
        "worker.ec2_details.updated",
        "worker.data.refreshed",
        "worker.refresh.requested",
        "worker.refresh.skipped",
        "workers.refresh.completed",
    }
)
PUBLISH_CHUNK: Final = 100
"""Workers mapped between two yields to the event loop while a fleet snapshot is built."""
READ_CONCURRENCY: Final = 4
"""Idle verdicts (and, apart, lab lists) read from Cloud Manager at the same time."""


@dataclass(frozen=True)
class StreamTiming:
    """The stream's clocks; tests shrink them, production keeps Cloud Manager's numbers."""

    backoff_min: float = 1.0
    backoff_max: float = 30.0
    shutdown_delay: float = 2.0
    silence: float = 75.0
    initial_set_timeout: float = 15.0
    action_event_timeout: float = 10.0
    stable_after: float = 60.0
    token_command_gap: float = 60.0
    licence_timeout: float = 100.0  # upstream's registration job polls CML for up to 90 s


@dataclass(frozen=True)
class CcmOpened:
    """What an opener started: the config and environment to reach it, and how to stop it."""

    config: Config
    env: Mapping[str, str]
    close: Callable[[], Awaitable[None]]


CcmOpener = Callable[[], Awaitable[CcmOpened]]


class CcmBackend(CcmOperations, Channels):
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        audit: AuditLog | None = None,
        operator: str | None = None,
        env: Mapping[str, str] | None = None,
        timing: StreamTiming | None = None,
        opener: CcmOpener | None = None,
        label: str | None = None,
    ) -> None:
        """Read the Cloud Manager at `config.source.url`, or the one `opener` starts (then
        `label` names it until it is up)."""
        if opener is None and not config.source.url:
            raise ConfigError('source.url: required when source.kind is "ccm" (or --ccm URL)')
        self.clock = clock or SystemClock()
        self.audit = audit or AuditLog()
        self.operator = operator or local_user()
        self.timing = timing or StreamTiming()
        self._opener = opener
        self._demo = opener is not None
        self._open_lock = asyncio.Lock()
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._reach(config, os.environ if env is None else env, label)
        self.fleet = CcmFleet()
        self.published = 0
        self._interval = clamp_interval(config.intervals.collector)
        self._settle = timedelta(seconds=config.idle.settle_seconds)
        self._seen_this_connection: set[str] = set()
        self._initial_done = asyncio.Event()
        self._connected = False
        self._wake = asyncio.Event()
        self._in_flight: set[str] = set()
        self._waiters: dict[tuple[str, str], asyncio.Future[ActivityEvent]] = {}
        self._secrets: set[str] = set()  # tokens being sent: cut out of what comes back
        self._registering_by: dict[str, str] = {}  # who started each registration job seen
        self.unknown_types = KindCounter(log, "event types not used by cmltui (ignored)")
        super().__init__(self.label)  # status: starting
        if self.audit.problem:  # actions are refused; the dashboard says why, once
            self.warnings.publish(self.audit.problem)
        self._session: aiohttp.ClientSession | None = None
        self._api: CcmApi | None = None
        self.stream: CcmStream | None = None
        self.verdicts = FactReader(
            "idle-status",
            interval=config.intervals.activity,
            eligible=lambda: self.fleet.running(detection=True),
            fetch=self._read_verdict,
            concurrency=READ_CONCURRENCY,
            on_caught_up=self._wake.set,
        )
        self.lab_lists = FactReader(
            "labs",
            interval=config.intervals.lab_details,
            eligible=self.fleet.running,
            fetch=self._read_labs,
            concurrency=READ_CONCURRENCY,
            on_caught_up=self._wake.set,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._initial_task: asyncio.Task[None] | None = None

    def _reach(self, config: Config, env: Mapping[str, str], label: str | None = None) -> None:
        """Point the backend at `config.source` (at construction, or once the opener ran)."""
        source = config.source
        self.config = config
        self.url = source.url or ""
        self.regions = tuple(source.regions or config.aws.regions)
        check_regions(
            self.regions,
            "source.regions" if source.regions else "aws.regions (the default of source.regions)",
        )
        self.label = label or f"ccm {self.url}"
        self.context = BackendContext(
            profile=None,
            regions=self.regions,
            read_only=config.read_only,
            tls_verified=source.verify_tls and not self.url.startswith("http://"),
            demo=self._demo,
            source=self.label,
        )
        self.tokens = TokenProvider(source, env, min_command_gap=self.timing.token_command_gap)

    @property
    def applied(self) -> dict[str, int]:
        """Snapshots applied per worker (tests read it)."""
        return self.fleet.applied

    # --- the Backend protocol -----------------------------------------------------------------

    @property
    def interval(self) -> float:
        return self._interval

    def set_interval(self, seconds: float) -> float:
        self._interval = clamp_interval(seconds)
        self._wake.set()
        return self._interval

    async def start(self) -> None:
        """Start the stream, the readers and the publisher (after the opener, if any)."""
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._run(), name="cmltui-ccm")]

    async def _run(self) -> None:
        try:
            await self.open()
        except Exception as exc:  # e.g. the simulated Cloud Manager could not start
            log.exception("could not start the Cloud Manager source")
            self._set_status("error", f"could not start: {exc}")
            return
        api = self._open_api()
        timing = self.timing
        self.stream = CcmStream(
            api.session,
            self.url,
            self.tokens,
            on_event=self._on_event,
            on_state=self._on_stream_state,
            on_connected=self._on_connected,
            backoff_min=timing.backoff_min,
            backoff_max=timing.backoff_max,
            shutdown_delay=timing.shutdown_delay,
            silence=timing.silence,
            stable_after=timing.stable_after,
            max_depth=self.config.cml.max_json_depth,
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(self.stream.run(), name="cmltui-ccm-stream")
            group.create_task(self._publisher(), name="cmltui-ccm-publisher")
            group.create_task(self.verdicts.run(), name="cmltui-ccm-idle-status")
            group.create_task(self.lab_lists.run(), name="cmltui-ccm-labs")

    async def open(self) -> None:
        """Run the opener once (the demo starts its simulated Cloud Manager here)."""
        async with self._open_lock:
            if self._opener is None:
                return
            opened = await self._opener()
            self._opener = None
            self._closers.append(opened.close)
            self._reach(opened.config, opened.env)
            self._set_status("starting", "connecting")

    def refresh_now(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        for task in [*self._tasks, self._initial_task]:
            while task is not None and not task.done():
                task.cancel()  # again if a cancel was swallowed by a race
                await asyncio.wait([task], timeout=0.5)
            if task is not None and not task.cancelled() and task.exception() is not None:
                log.warning("Cloud Manager task ended with %s", type(task.exception()).__name__)
        self._tasks, self._initial_task = [], None
        if self._session is not None:
            await self._session.close()
            self._session = None
        while self._closers:
            await self._closers.pop()()

    async def audit_entries(self, worker_id: str, limit: int = 50) -> list[AuditEntry]:
        """This worker's newest audit entries, read on a worker thread (the file may be big)."""
        return await asyncio.to_thread(read_entries, self.audit.path, worker_id, limit)

    async def snapshot_once(self) -> FleetSnapshot:
        """One fleet snapshot from the worker list of every region, with Cloud Manager's idle
        verdict and labs of each running worker (`cmltui snapshot --ccm`)."""
        await self.open()
        api = self._open_api()
        errors: list[str] = []
        now = self.clock.now()
        for region in self.regions:
            try:
                listed = await api.list_workers(region)
            except CcmError as exc:
                errors.append(f"{region}: {exc}")
                continue
            for payload in listed:
                self.fleet.store(payload, now, region, count=False)
        deadline = self.config.source.request_timeout * 3
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline):  # a slow one is unknown, not a hang
                await asyncio.gather(
                    self.verdicts.read(list(self.fleet.running(detection=True))),
                    self.lab_lists.read(list(self.fleet.running())),
                )
        return await self._fleet_snapshot(errors=tuple(errors))

    async def wait_initial_set(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._initial_done.wait()
        return self._initial_done.is_set()

    # --- actions ------------------------------------------------------------------------------

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        new_value = not shown_enabled
        kind: ActionKind = "toggle_idle_detection"
        entry = self._for_action(worker_id, kind, sets_detection=new_value)
        route = "enable_idle" if new_value else "disable_idle"
        expected = {"is_enabled": new_value, "toggled_by": self.operator}
        detail = {"is_enabled": new_value}

        def already() -> str:
            """Cloud Manager had it so already (a change whose event never reached us), and
            sends no event: shown as it says from now on, and said at once."""
            self.fleet.confirm_detection(worker_id, new_value)
            self._wake.set()
            why = self._refusal(worker_id, kind, sets_detection=new_value) or "nothing to do"
            return f"{why} (Cloud Manager's answer; nothing changed)"

        return await self._act(
            worker_id, entry, kind, route, IdleDetectionToggled, expected, detail, already
        )

    async def pause(self, worker_id: str) -> WorkerPaused:
        entry = self._for_action(worker_id, "pause")
        counts = entry.payload
        expected = {
            "pause_reason": "manual",
            "paused_by": self.operator,
            "auto_pause_count": counts.get("auto_pause_count"),
            "manual_pause_count": finite_count(counts.get("manual_pause_count")) + 1,
        }
        return await self._act(worker_id, entry, "pause", "stop", WorkerPaused, expected)

    async def resume(self, worker_id: str) -> WorkerResumed:
        entry = self._for_action(worker_id, "resume")
        counts = entry.payload
        expected = {
            "resume_reason": "manual",
            "resumed_by": self.operator,
            "auto_resume_count": counts.get("auto_resume_count"),
            "manual_resume_count": finite_count(counts.get("manual_resume_count")) + 1,
            "was_auto_paused": counts.get("pause_reason") == "idle_timeout",
        }
        return await self._act(worker_id, entry, "resume", "start", WorkerResumed, expected)

    async def pause_many(self, worker_ids: list[str]) -> list[WorkerPaused]:
        return [await self.pause(worker_id) for worker_id in worker_ids]

    def _for_action(
        self,
        worker_id: str,
        kind: ActionKind,
        lab: CcmLab | None = None,
        *,
        sets_detection: bool | None = None,
    ) -> Entry:
        """The worker's entry, unless the one precondition rule (`cmltui.domain.rules`) says no."""
        entry = self.fleet.entries.get(worker_id)
        why = self._refusal(worker_id, kind, lab, sets_detection=sets_detection)
        if why is None and entry is None:
            why = f"unknown worker {worker_id[:64]}"
        if why is not None:
            raise ActionRefused(why)
        assert entry is not None
        return entry

    def _refusal(
        self,
        worker_id: str,
        kind: ActionKind,
        lab: CcmLab | None = None,
        *,
        sets_detection: bool | None = None,
    ) -> str | None:
        """The rule on what is shown: a held in-flight status (a pause just sent) counts, and so
        do the idle-detection switch an event set, the licence (a deregistration's, while
        held) and a lab's state as Cloud Manager last sent them."""
        entry = self.fleet.entries.get(worker_id)
        held = self.fleet.held_status(worker_id)
        held_licence = self.fleet.held_licence(worker_id)
        payload = entry.payload if entry is not None else {}
        return action_refusal(
            kind,
            name=self.fleet.name(worker_id),
            status=held if held is not None else ccm_status(payload.get("status")),
            read_only=self.config.read_only,
            in_flight=worker_id in self._in_flight,
            idle_detection=self.fleet.detection_shown(worker_id),
            sets_detection=sets_detection,
            licence=held_licence or ccm_licence_status(payload.get("license_status")),
            lab_title=lab.title if lab else None,
            lab_state=lab.state if lab else None,
        )

    async def _act(
        self,
        worker_id: str,
        entry: Entry,
        action: ActionKind,
        route: str,
        kind: type[E],
        expected: dict[str, Any],
        detail: dict[str, Any] | None = None,
        already: Callable[[], str] | None = None,
    ) -> E:
        """Send the route, then wait for Cloud Manager's own event for it.

        If none comes in time (the route was accepted), the event `expected` describes stands
        in for it: held and published as Cloud Manager's would be. When Cloud Manager answers
        that it had nothing to do, no event will come: `already` says why, at once. Whatever
        happens after the intent line, a result line follows it.
        """
        event_type = kind.type
        detail = {**(detail or {}), "via": self.label}
        key = (worker_id, event_type)
        waiter: asyncio.Future[ActivityEvent] = asyncio.get_running_loop().create_future()
        self._waiters[key] = waiter
        try:
            with self._busy(worker_id):
                await self._audited(
                    worker_id,
                    entry.region,
                    action,
                    detail,
                    lambda api: api.action(entry.region, worker_id, route),
                    already,
                )
                try:
                    async with asyncio.timeout(self.timing.action_event_timeout):
                        event = await waiter
                except TimeoutError:
                    log.info("%s of %s: no event from Cloud Manager in time", action, worker_id)
                    event = self._stand_in(event_type, worker_id, expected)
        finally:
            self._waiters.pop(key, None)
        if not isinstance(event, kind):  # cannot happen: waiters and stand-ins are by type
            raise ActionFailed(f"{action.replace('_', ' ')}: no {event_type} event")
        return event

    def _stand_in(
        self, event_type: str, worker_id: str, expected: dict[str, Any]
    ) -> ActivityEvent | None:
        """The event Cloud Manager did not send, read like its own and accepted as it would be."""
        data = {"worker_id": worker_id, EVENT_TIME_KEY[event_type]: self.clock.now(), **expected}
        event = to_activity(event_type, data, self.clock.now())
        if event is not None:
            self._accept(event)
        return event

    # --- the stream ---------------------------------------------------------------------------

    def _open_api(self) -> CcmApi:
        if self._api is None:
            source = self.config.source
            connector = aiohttp.TCPConnector(
                ssl=ssl_context(source.verify_tls, source.ca_bundle), keepalive_timeout=120
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=source.request_timeout),
            )
            self._api = CcmApi(
                self._session, self.url, self.tokens, max_depth=self.config.cml.max_json_depth
            )
        return self._api

    def _on_stream_state(self, state: StreamState) -> None:
        if state.state != "connected":
            self._connected = False
        if state.state == "connected":
            self._set_status("ok", "connected")
        elif state.state == "token_rejected":
            self._set_status("error", "token rejected", state.retry_in)
        elif state.state == "reconnecting" and state.retry_in is not None:
            self._set_status("reconnecting", state.detail, state.retry_in)
        elif state.state == "reconnecting":
            self._set_status("reconnecting", "reconnecting")
        else:
            self._set_status("starting", "connecting")

    def _set_status(self, state: str, detail: str | None, retry_in: float | None = None) -> None:
        retry_at = self.clock.now() + timedelta(seconds=retry_in) if retry_in else None
        self.publish_status(SourceStatus(self.label, state, detail, retry_at))

    async def _on_connected(self) -> None:
        """A new connection: its initial snapshots follow; the list says which to expect."""
        self._connected = True
        self._seen_this_connection = set()
        if self._initial_task is not None:
            self._initial_task.cancel()
        self._initial_task = asyncio.create_task(self._complete_initial_set())

    async def _complete_initial_set(self) -> None:
        try:
            await self._fill_from_list()
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. a failing token command: the stream's snapshots still count
            log.exception("Cloud Manager worker list could not complete the initial set")
        self._initial_done.set()
        self._wake.set()

    async def _fill_from_list(self) -> None:
        """Wait for every listed worker's snapshot; take the list's own for any that is late."""
        api = self._open_api()
        listed: dict[str, tuple[dict[str, Any], str]] = {}
        errors = 0
        for region in self.regions:
            try:
                for payload in await api.list_workers(region):
                    worker_id = worker_id_of(payload.get("id"))
                    if worker_id is not None and len(listed) < self.fleet.max_workers:
                        listed[worker_id] = (payload, region)
            except CcmError as exc:
                errors += 1
                log.warning("Cloud Manager worker list of %s failed: %s", region, exc)
        deadline = asyncio.get_running_loop().time() + self.timing.initial_set_timeout
        while set(listed) - self._seen_this_connection:
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(0.05)
        now = self.clock.now()
        for worker_id in set(listed) - self._seen_this_connection:
            payload, region = listed[worker_id]  # the stream did not send it: the list did
            self._stored(worker_id, self.fleet.store(payload, now, region))
        if not errors:  # workers Cloud Manager no longer lists were removed while we were away
            for worker_id in set(self.fleet.ids()) - set(listed) - self._seen_this_connection:
                self.fleet.remove(worker_id)
                self.verdicts.forget(worker_id)
                self.lab_lists.forget(worker_id)
                self._registering_by.pop(worker_id, None)

    async def _on_event(self, event: StreamEvent) -> None:
        kind = event.type
        if kind == SNAPSHOT:
            self._on_snapshot(event)
        elif kind == METRICS:
            worker_id = worker_id_of(event.data.get("worker_id"))
            if worker_id is not None:
                self.fleet.apply_metrics(worker_id, event.data, self._event_time(event))
        elif kind in ACTIVITY_TYPES:
            self._on_activity(event)
        elif kind == LABS:
            worker_id = worker_id_of(event.data.get("worker_id"))
            if worker_id is not None and worker_id in self.fleet:
                self.fleet.apply_labs_event(worker_id, event.data)
                self.lab_lists.due(worker_id)  # and read the whole list again at once
        elif kind in LICENCE_TYPES:
            self._on_licence(event)
        elif kind not in KNOWN_IGNORED:
            self.unknown_types.note(kind, "not used by cmltui; ignored (counted)")

    def _event_time(self, event: StreamEvent) -> datetime:
        """When Cloud Manager sent the event (its envelope's time), never later than now."""
        now = self.clock.now()
        return not_ahead(parse_time(event.time), now) or now

    def _on_snapshot(self, event: StreamEvent) -> None:
        data = event.data
        worker_id = worker_id_of(data.get("id"))
        region = data.get("aws_region") if isinstance(data.get("aws_region"), str) else ""
        stored = self.fleet.store(
            dict(data), self._event_time(event), region or (self.regions[0] if self.regions else "")
        )
        if worker_id is not None and worker_id in self.fleet:
            self._seen_this_connection.add(worker_id)  # bounded: only workers kept
        if worker_id is not None:
            self._stored(worker_id, stored)

    def _stored(self, worker_id: str, stored: Stored) -> None:
        if stored is Stored.STATUS_CHANGED:
            self._wake.set()  # a status change is published at once
        if stored in (Stored.NEW, Stored.STATUS_CHANGED):
            self.verdicts.due(worker_id)  # unknown until read: read now (if running)
            self.lab_lists.due(worker_id)

    def _on_activity(self, event: StreamEvent) -> None:
        activity = to_activity(event.type, event.data, self.clock.now())
        if activity is None:
            self.unknown_types.note(event.type, "event without the fields cmltui needs; ignored")
            return
        waiter = self._waiters.get((activity.worker_id, activity.type))
        if waiter is not None and not waiter.done():
            waiter.set_result(activity)  # the action's caller gets the server's own event
        self._accept(activity)  # and so does every subscriber (the app shows an event once
        # even when it is reported twice)

    def _accept(self, activity: ActivityEvent) -> None:
        """Hold what the event sets (the settle table), ask Cloud Manager's verdict again
        after a toggle, resume, lab action or activity check, and put it on the activity
        channel."""
        self.fleet.hold(activity)
        if not isinstance(activity, (WorkerPaused, LicenceChanged)):
            self.verdicts.due(activity.worker_id)
        self.activity.publish(activity)

    def _on_licence(self, event: StreamEvent) -> None:
        licence = to_licence_event(event.type, event.data, self.clock.now(), self._secrets)
        if licence is None or licence.worker_id not in self.fleet:
            return
        if event.type == DEREGISTERED:
            self.fleet.forget_licence(licence.worker_id)
        self._accept(self._named(licence))  # held: "registering" until the job's end

    def _named(self, licence: LicenceChanged) -> LicenceChanged:
        """The event with who did it: upstream's job ends name no one, so they name whoever
        its start named (as the direct backend does); failing that, Cloud Manager."""
        worker_id = licence.worker_id
        if licence.step == "registration started" and licence.by is not None:
            self._registering_by[worker_id] = licence.by  # at most one per listed worker
            return licence
        started_by = None
        if licence.step in ("registration completed", "registration failed"):
            started_by = self._registering_by.pop(worker_id, None)
        if licence.by is not None:
            return licence
        return licence.model_copy(update={"by": started_by or CLOUD_MANAGER})

    async def _read_verdict(self, worker_id: str) -> None:
        entry = self.fleet.entries.get(worker_id)
        if entry is None:
            return
        body = await self._open_api().idle_status(entry.region, worker_id)
        self.fleet.set_verdict(worker_id, read_idle_status(body, self.clock.now()))

    async def _read_labs(self, worker_id: str) -> None:
        entry = self.fleet.entries.get(worker_id)
        if entry is None:
            return
        body = await self._open_api().labs(entry.region, worker_id)
        labs = read_labs(body)
        if labs is None:
            raise CcmError("labs: expected a JSON list")
        self.fleet.set_labs(worker_id, labs, self.clock.now())

    # --- publishing ---------------------------------------------------------------------------

    async def _publisher(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):  # not wait_for: on 3.11 it can
                    await self._wake.wait()  # swallow a cancel that races a wake-up
            self._wake.clear()
            if not self._connected or not self._initial_done.is_set():
                continue  # the table keeps its last data; the status says why
            try:
                await self.publish_async()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad payload must not stop the channel
                log.exception("Cloud Manager snapshot could not be published")

    def publish(self) -> FleetSnapshot:
        """Build and publish a fleet snapshot at once (tests; the publisher yields as it goes)."""
        snapshot = self._assemble(list(self._dtos()), ())
        self._publish(snapshot)
        return snapshot

    async def publish_async(self) -> FleetSnapshot:
        """Build a fleet snapshot, yielding to the event loop every `PUBLISH_CHUNK` workers so
        that a key press never waits for a large fleet to be mapped; then publish it."""
        snapshot = await self._fleet_snapshot()
        self._publish(snapshot)
        return snapshot

    def _publish(self, snapshot: FleetSnapshot) -> None:
        self.published += 1
        self.snapshots.publish(snapshot)

    async def _fleet_snapshot(self, errors: tuple[str, ...] = ()) -> FleetSnapshot:
        dtos = []
        for count, dto in enumerate(self._dtos(), 1):
            dtos.append(dto)
            if count % PUBLISH_CHUNK == 0:
                await asyncio.sleep(0)
        return self._assemble(dtos, errors)

    def _dtos(self) -> Iterator[CMLWorkerDto | None]:
        now = self.clock.now()
        next_at = now + timedelta(seconds=self._interval)
        prices = self.config.price_table()
        settings = self.config.idle_settings()
        trust = UrlTrust.of(self.config.cml.allowed_hosts, self.config.cml.allow_http_hosts)

        def context(entry: Entry) -> CcmMapContext:
            return CcmMapContext(
                now=now,
                received_at=entry.received_at,
                idle=settings,
                poll_interval=self._interval,
                next_refresh_at=next_at,
                prices=prices,
                verdict=entry.verdict,
                labs=entry.labs,
                labs_read_at=entry.labs_read_at,
                kept=entry.kept,
                trust=trust,
            )

        return self.fleet.dtos(context, self._settle)

    def _assemble(self, dtos: list[CMLWorkerDto | None], errors: tuple[str, ...]) -> FleetSnapshot:
        now = self.clock.now()
        shown = sorted((dto for dto in dtos if dto is not None), key=lambda d: (d.name, d.id))
        return FleetSnapshot(
            collected_at=now,
            next_refresh_at=now + timedelta(seconds=self._interval),
            workers=tuple(shown),
            errors=errors,
        )
