"""A CML Cloud Manager as the source: its event stream feeds the two channels, its API acts.

The same `Backend` the dashboard gets from the AWS core: per-worker `worker.snapshot` payloads
go through the one mapper and are assembled into fleet snapshots, published at the configured
interval (or at once when a status changes or the initial set is complete). Cloud Manager's
minimal events become cmltui's own activity events. A value an event set is held against any
snapshot that was sent before the event plus the settle time (the settle rule), so a stale
snapshot never undoes an action. Actions go through Cloud Manager's REST routes, under the same
read-only mode, in-flight guard and audit log as on AWS; their results come back as events.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from cmltui.api.backend import (
    ActionFailed,
    ActionRefused,
    BackendContext,
    SourceStatus,
)
from cmltui.api.events import (
    ActivityEvent,
    ActivityUpdated,
    FleetSnapshot,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
    event_time,
)
from cmltui.audit import AuditLog, AuditUnavailable
from cmltui.backends.ccm.api import CcmApi, CcmAuthError, CcmError, CcmRefused, ssl_context
from cmltui.backends.ccm.auth import TokenProvider
from cmltui.backends.ccm.stream import CcmStream, StreamEvent, StreamState
from cmltui.clock import Clock, SystemClock
from cmltui.config import Config, ConfigError
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.intervals import clamp_interval
from cmltui.domain.rules import ActionKind, action_refusal
from cmltui.domain.settle import PendingWrite
from cmltui.domain.times import not_ahead, parse_time
from cmltui.mapper import CCM_HELD_FIELDS, CcmMapContext, map_ccm_snapshot_to_dto

log = logging.getLogger(__name__)

MAX_WORKERS = 20_000  # a misbehaving server cannot grow the fleet without bound
SNAPSHOT = "worker.snapshot"
METRICS = "worker.metrics.updated"
METRIC_FIELDS = (
    "cpu_utilization",
    "memory_utilization",
    "storage_utilization",
    "cml_version",
    "poll_interval",
    "next_refresh_at",
)
# Known and deliberately not acted on: each is followed by a `worker.snapshot` upstream.
FOLLOWED_BY_SNAPSHOT = frozenset(
    {
        "worker.created",
        "worker.imported",
        "worker.terminated",
        "worker.status.updated",
        "worker.labs.updated",
        "worker.endpoint.updated",
        "worker.ec2_details.updated",
        "worker.license.updated",
    }
)


@dataclass(frozen=True)
class StreamTiming:
    """The stream's clocks; tests shrink them, production keeps Cloud Manager's numbers."""

    backoff_min: float = 1.0
    backoff_max: float = 30.0
    shutdown_delay: float = 2.0
    silence: float = 75.0
    initial_set_timeout: float = 15.0
    action_event_timeout: float = 10.0


@dataclass
class _Entry:
    payload: dict[str, Any]  # token-free (removed by the stream or the list reader)
    received_at: datetime
    region: str


class CcmBackend:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        audit: AuditLog | None = None,
        operator: str | None = None,
        env: Mapping[str, str] | None = None,
        timing: StreamTiming | None = None,
    ) -> None:
        source = config.source
        if not source.url:
            raise ConfigError('source.url: required when source.kind is "ccm" (or --ccm URL)')
        self.config = config
        self.url = source.url
        self.clock = clock or SystemClock()
        self.audit = audit or AuditLog()
        self.operator = operator or _local_user()
        self.timing = timing or StreamTiming()
        self.regions = tuple(source.regions or config.aws.regions)
        self.label = f"ccm {self.url}"
        self.context = BackendContext(
            profile=None,
            regions=self.regions,
            read_only=config.read_only,
            tls_verified=source.verify_tls and self.url.startswith("https://"),
            demo=False,
            source=self.label,
        )
        self.warnings: list[str] = []
        self.tokens = TokenProvider(source, os.environ if env is None else env)
        self.status = SourceStatus(self.label, "starting")
        self.applied: dict[str, int] = {}  # snapshots applied per worker (tests read it)
        self.published = 0
        self._interval = clamp_interval(config.intervals.collector)
        self._settle = timedelta(seconds=config.idle.settle_seconds)
        self._entries: dict[str, _Entry] = {}
        self._held: dict[str, dict[str, PendingWrite[Any]]] = {}  # payload form
        self._seen_this_connection: set[str] = set()
        self._initial_done = asyncio.Event()
        self._connected = False
        self._wake = asyncio.Event()
        self._in_flight: set[str] = set()
        self._waiters: dict[tuple[str, str], asyncio.Future[ActivityEvent]] = {}
        self._unknown_types: set[str] = set()
        self._snapshot_subs: list[Callable[[FleetSnapshot], None]] = []
        self._activity_subs: list[Callable[[ActivityEvent], None]] = []
        self._status_subs: list[Callable[[SourceStatus], None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._api: CcmApi | None = None
        self.stream: CcmStream | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._initial_task: asyncio.Task[None] | None = None

    # --- the Backend protocol -----------------------------------------------------------------

    @property
    def interval(self) -> float:
        return self._interval

    def set_interval(self, seconds: float) -> float:
        self._interval = clamp_interval(seconds)
        self._wake.set()
        return self._interval

    def subscribe_snapshots(self, callback: Callable[[FleetSnapshot], None]) -> None:
        self._snapshot_subs.append(callback)

    def subscribe_activity(self, callback: Callable[[ActivityEvent], None]) -> None:
        self._activity_subs.append(callback)

    def subscribe_status(self, callback: Callable[[SourceStatus], None]) -> None:
        self._status_subs.append(callback)
        callback(self.status)

    async def start(self) -> None:
        """Open the session and start the stream and the publisher; returns at once."""
        if self._tasks:
            return
        api = self._open_api()
        self.stream = CcmStream(
            api.session,
            self.url,
            self.tokens,
            on_event=self._on_event,
            on_state=self._on_stream_state,
            on_connected=self._on_connected,
            backoff_min=self.timing.backoff_min,
            backoff_max=self.timing.backoff_max,
            shutdown_delay=self.timing.shutdown_delay,
            silence=self.timing.silence,
        )
        self._tasks = [
            asyncio.create_task(self.stream.run(), name="cmltui-ccm-stream"),
            asyncio.create_task(self._publisher(), name="cmltui-ccm-publisher"),
        ]

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

    async def snapshot_once(self) -> FleetSnapshot:
        """One fleet snapshot from the worker list of every region (`cmltui snapshot --ccm`)."""
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
                self._store(payload, now, region, count=False)
        return self._fleet_snapshot(errors=tuple(errors))

    async def wait_initial_set(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._initial_done.wait()
        return self._initial_done.is_set()

    # --- actions ------------------------------------------------------------------------------

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        entry = self._for_action(worker_id, "toggle_idle_detection")
        new_value = not shown_enabled
        route = "enable_idle" if new_value else "disable_idle"
        event = await self._act(
            worker_id,
            entry,
            "toggle_idle_detection",
            route,
            IdleDetectionToggled.type,
            {"is_enabled": new_value},
        )
        if isinstance(event, IdleDetectionToggled):
            return event
        return IdleDetectionToggled(  # the server changed nothing (already so): no event came
            worker_id=worker_id,
            is_enabled=new_value,
            toggled_by=self.operator,
            toggled_at=self.clock.now(),
        )

    async def pause(self, worker_id: str) -> WorkerPaused:
        entry = self._for_action(worker_id, "pause")
        event = await self._act(worker_id, entry, "pause", "stop", WorkerPaused.type, {})
        if isinstance(event, WorkerPaused):
            return event
        counts = entry.payload
        return WorkerPaused(
            worker_id=worker_id,
            pause_reason="manual",
            paused_by=self.operator,
            paused_at=self.clock.now(),
            auto_pause_count=_int(counts.get("auto_pause_count")),
            manual_pause_count=_int(counts.get("manual_pause_count")) + 1,
            idle_duration_minutes=None,
        )

    async def resume(self, worker_id: str) -> WorkerResumed:
        entry = self._for_action(worker_id, "resume")
        event = await self._act(worker_id, entry, "resume", "start", WorkerResumed.type, {})
        if isinstance(event, WorkerResumed):
            return event
        counts = entry.payload
        return WorkerResumed(
            worker_id=worker_id,
            resume_reason="manual",
            resumed_by=self.operator,
            resumed_at=self.clock.now(),
            auto_resume_count=_int(counts.get("auto_resume_count")),
            manual_resume_count=_int(counts.get("manual_resume_count")) + 1,
            was_auto_paused=counts.get("pause_reason") == "idle_timeout",
        )

    async def pause_many(self, worker_ids: list[str]) -> list[WorkerPaused]:
        return [await self.pause(worker_id) for worker_id in worker_ids]

    def _for_action(self, worker_id: str, kind: ActionKind) -> _Entry:
        """The worker's entry, unless the one precondition rule (`cmltui.domain.rules`) says no."""
        entry = self._entries.get(worker_id)
        listed = entry.payload.get("status") if entry is not None else None
        why = action_refusal(
            kind,
            name=self._name(worker_id),
            status=WorkerStatus.from_ec2(listed if isinstance(listed, str) else None),
            read_only=self.config.read_only,
            in_flight=worker_id in self._in_flight,
        )
        if why is None and entry is None:
            why = f"unknown worker {worker_id}"
        if why is not None:
            raise ActionRefused(why)
        return entry

    async def _act(
        self,
        worker_id: str,
        entry: _Entry,
        action: str,
        route: str,
        event_type: str,
        detail: dict[str, Any],
    ) -> ActivityEvent | None:
        """Send the route, then wait for Cloud Manager's own event for it (None if none came)."""
        api = self._open_api()
        self._in_flight.add(worker_id)
        key = (worker_id, event_type)
        waiter: asyncio.Future[ActivityEvent] = asyncio.get_running_loop().create_future()
        self._waiters[key] = waiter
        audit = {
            "worker_id": worker_id,
            "worker_name": self._name(worker_id),
            "region": entry.region,
            "operator": self.operator,
            "action": action,
        }
        detail = {**detail, "via": self.label}
        try:
            try:  # the durable intent line first: if it cannot be written, nothing is sent
                self.audit.record(
                    at=self.clock.now(), result="intent", detail=detail, required=True, **audit
                )
            except AuditUnavailable as exc:
                raise ActionRefused(f"{action.replace('_', ' ')} not sent: {exc}") from exc
            try:
                await api.action(entry.region, worker_id, route)
            except CcmRefused as exc:
                self.audit.record(
                    at=self.clock.now(), result="refused", error=str(exc), detail=detail, **audit
                )
                raise ActionRefused(str(exc)) from None
            except CcmAuthError:
                self._set_status("error", "token rejected")
                self.audit.record(
                    at=self.clock.now(),
                    result="failed",
                    error="token rejected",
                    detail=detail,
                    **audit,
                )
                raise ActionFailed("Cloud Manager rejected the token") from None
            except CcmError as exc:
                self.audit.record(
                    at=self.clock.now(), result="failed", error=str(exc), detail=detail, **audit
                )
                raise ActionFailed(str(exc)) from None
            self.audit.record(at=self.clock.now(), result="ok", detail=detail, **audit)
            try:
                async with asyncio.timeout(self.timing.action_event_timeout):
                    return await waiter
            except TimeoutError:
                log.info("%s of %s: no event from Cloud Manager in time", action, worker_id)
                return None
        finally:
            self._waiters.pop(key, None)
            self._in_flight.discard(worker_id)

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
            self._api = CcmApi(self._session, self.url, self.tokens)
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
        self.status = SourceStatus(self.label, state, detail, retry_at)
        for callback in list(self._status_subs):
            callback(self.status)

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
                    if isinstance(payload.get("id"), str):
                        listed[payload["id"]] = (payload, region)
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
            self._store(payload, now, region)
        if not errors:  # workers Cloud Manager no longer lists were removed while we were away
            for worker_id in set(self._entries) - set(listed) - self._seen_this_connection:
                del self._entries[worker_id]
                self._held.pop(worker_id, None)

    async def _on_event(self, event: StreamEvent) -> None:
        if event.type == SNAPSHOT:
            self._on_snapshot(event)
        elif event.type == METRICS:
            self._on_metrics(event)
        elif event.type in _ACTIVITY_TYPES:
            self._on_activity(event)
        elif event.type not in FOLLOWED_BY_SNAPSHOT and event.type not in self._unknown_types:
            self._unknown_types.add(event.type)
            log.info("Cloud Manager event type %r is not used by cmltui; ignored", event.type)

    def _on_snapshot(self, event: StreamEvent) -> None:
        data = event.data
        worker_id = data.get("id")
        if not isinstance(worker_id, str) or not worker_id:
            return
        now = self.clock.now()
        received = not_ahead(parse_time(event.time), now) or now
        region = data.get("aws_region") if isinstance(data.get("aws_region"), str) else ""
        self._seen_this_connection.add(worker_id)
        self._store(dict(data), received, region or (self.regions[0] if self.regions else ""))

    def _store(
        self, payload: dict[str, Any], received: datetime, region: str, *, count: bool = True
    ) -> None:
        payload.pop("license_token", None)  # never kept, even if a caller forgot
        payload.pop("_reason", None)
        worker_id = str(payload.get("id"))[:128]
        old = self._entries.get(worker_id)
        if old is None and len(self._entries) >= MAX_WORKERS:
            if "too many" not in self._unknown_types:
                self._unknown_types.add("too many")
                log.warning(
                    "Cloud Manager sent more than %d workers; the rest are ignored", MAX_WORKERS
                )
            return
        if old is not None and old.payload == payload:
            return  # the same snapshot again (another client connected): nothing to apply
        if old is not None and received < old.received_at:
            return  # an older snapshot arriving late never replaces a newer one
        self._entries[worker_id] = _Entry(payload, received, region)
        self._settle_held(worker_id, payload, received)
        if count:
            self.applied[worker_id] = self.applied.get(worker_id, 0) + 1
        if old is not None and old.payload.get("status") != payload.get("status"):
            self._wake.set()  # a status change is published at once

    def _on_metrics(self, event: StreamEvent) -> None:
        entry = self._entries.get(str(event.data.get("worker_id")))
        if entry is None:
            return
        for name in METRIC_FIELDS:
            if name in event.data:
                entry.payload[name] = event.data[name]

    def _on_activity(self, event: StreamEvent) -> None:
        activity = _to_activity(event.type, event.data, self.clock.now())
        if activity is None:
            log.info("Cloud Manager %s event without the fields cmltui needs; ignored", event.type)
            return
        at = event_time(activity) or self.clock.now()
        held = self._held.setdefault(activity.worker_id, {})
        for name, value in _held_values(event.data).items():
            held[name] = PendingWrite(value, at)
        waiter = self._waiters.get((activity.worker_id, activity.type))
        if waiter is not None and not waiter.done():
            waiter.set_result(activity)  # the action's caller gets the server's own event
        for callback in list(self._activity_subs):  # and so does every subscriber (the app
            callback(activity)  # shows an event once even when it is reported twice)

    def _settle_held(self, worker_id: str, payload: Mapping[str, Any], received: datetime) -> None:
        held = self._held.get(worker_id)
        if not held:
            return
        for name, item in list(held.items()):
            if _same(payload.get(name), item.value) or item.outlived_by(received, self._settle):
                del held[name]
        if not held:
            del self._held[worker_id]

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
                self.publish()
            except Exception:  # one bad payload must not stop the channel
                log.exception("Cloud Manager snapshot could not be published")

    def publish(self) -> FleetSnapshot:
        snapshot = self._fleet_snapshot()
        self.published += 1
        for callback in list(self._snapshot_subs):
            callback(snapshot)
        return snapshot

    def _fleet_snapshot(self, errors: tuple[str, ...] = ()) -> FleetSnapshot:
        problems = list(errors)
        now = self.clock.now()
        next_at = now + timedelta(seconds=self._interval)
        prices = self.config.price_table()
        dtos = []
        for worker_id, entry in self._entries.items():
            held = {k: v.value for k, v in self._held.get(worker_id, {}).items()}
            ctx = CcmMapContext(
                now=now,
                received_at=entry.received_at,
                poll_interval=self._interval,
                next_refresh_at=next_at,
                prices=prices,
                held=held,
            )
            try:
                dtos.append(map_ccm_snapshot_to_dto(entry.payload, ctx))
            except Exception as exc:  # a payload the DTO refuses: that worker only
                log.warning(
                    "Cloud Manager worker %s not shown: %s", worker_id[:64], type(exc).__name__
                )
        dtos.sort(key=lambda dto: (dto.name, dto.id))
        return FleetSnapshot(
            collected_at=now, next_refresh_at=next_at, workers=tuple(dtos), errors=tuple(problems)
        )

    def _name(self, worker_id: str) -> str:
        entry = self._entries.get(worker_id)
        name = entry.payload.get("name") if entry else None
        return name[:120] if isinstance(name, str) and name else worker_id[:64]


_ACTIVITY_TYPES = frozenset(
    {IdleDetectionToggled.type, WorkerPaused.type, WorkerResumed.type, ActivityUpdated.type}
)
_HELD_FROM_EVENT = {
    "is_enabled": "is_idle_detection_enabled",
    "paused_at": "last_paused_at",
    "resumed_at": "last_resumed_at",
}


def _held_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The DTO fields an event sets, in payload form, for the settle rule."""
    values = {}
    for key, value in data.items():
        name = _HELD_FROM_EVENT.get(key, key)
        if name in CCM_HELD_FIELDS:
            values[name] = value
    return values


def _same(snapshot_value: Any, held_value: Any) -> bool:
    a, b = parse_time(snapshot_value), parse_time(held_value)
    if a is not None and b is not None:
        return a.replace(microsecond=0) == b.replace(microsecond=0)
    return snapshot_value == held_value


def _to_activity(kind: str, data: Mapping[str, Any], now: datetime) -> ActivityEvent | None:
    """Cloud Manager's minimal event as cmltui's own (None when a required field is missing)."""
    worker_id = data.get("worker_id")
    if not isinstance(worker_id, str) or not worker_id:
        return None
    worker_id = worker_id[:128]
    try:
        if kind == IdleDetectionToggled.type:
            at = parse_time(data.get("toggled_at"))
            if at is None or not isinstance(data.get("is_enabled"), bool):
                return None
            return IdleDetectionToggled(
                worker_id=worker_id,
                is_enabled=data["is_enabled"],
                toggled_by=_actor(data.get("toggled_by")),
                toggled_at=at,
            )
        if kind == WorkerPaused.type:
            at = parse_time(data.get("paused_at"))
            if at is None:
                return None
            reason = data.get("pause_reason")
            minutes = data.get("idle_duration_minutes")
            return WorkerPaused(
                worker_id=worker_id,
                pause_reason=reason if reason in ("idle_timeout", "manual") else "external",
                paused_by=_actor(data.get("paused_by")),
                paused_at=at,
                auto_pause_count=_int(data.get("auto_pause_count")),
                manual_pause_count=_int(data.get("manual_pause_count")),
                idle_duration_minutes=(
                    float(minutes)
                    if isinstance(minutes, int | float) and not isinstance(minutes, bool)
                    else None
                ),
            )
        if kind == WorkerResumed.type:
            at = parse_time(data.get("resumed_at"))
            if at is None:
                return None
            reason = data.get("resume_reason")
            return WorkerResumed(
                worker_id=worker_id,
                resume_reason=reason if reason in ("manual", "auto") else "external",
                resumed_by=_actor(data.get("resumed_by")),
                resumed_at=at,
                auto_resume_count=_int(data.get("auto_resume_count")),
                manual_resume_count=_int(data.get("manual_resume_count")),
                was_auto_paused=data.get("was_auto_paused") is True,
            )
        if kind == ActivityUpdated.type:
            check = parse_time(data.get("last_activity_check_at"))
            if check is None:
                return None
            return ActivityUpdated(
                worker_id=worker_id,
                last_activity_at=not_ahead(parse_time(data.get("last_activity_at")), now),
                last_activity_check_at=check,
                next_idle_check_at=parse_time(data.get("next_idle_check_at")),
                target_pause_at=parse_time(data.get("target_pause_at")),
            )
    except ValueError:  # pydantic's ValidationError: a value of the wrong kind
        return None
    return None


def _actor(value: Any) -> str:
    return value[:120] if isinstance(value, str) and value else "unknown"


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


@contextlib.asynccontextmanager
async def ccm_backend(config: Config, **kwargs: Any) -> AsyncIterator[CcmBackend]:
    backend = CcmBackend(config, **kwargs)
    try:
        yield backend
    finally:
        await backend.close()
