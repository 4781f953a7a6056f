"""The core service owns the schedules: one cycle at a time, backoff while nothing
can be listed, the interval in one place, both channels published, and the seam kept clean."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from cmltui.api.backend import ActionRefused, BackendContext, SourceStatus
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import ActivityEvent, FleetSnapshot, IdleDetectionToggled
from cmltui.api.subscribers import Subscribers
from cmltui.backends.direct.service import RETRY_CAP_SECONDS, CoreService
from cmltui.clock import ManualClock
from cmltui.config import Config
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.intervals import LADDER, Cadence, clamp_interval, step_interval
from cmltui.domain.rules import action_refusal
from cmltui.mapper import MapContext, map_worker_to_dto
from cmltui.sources.aws import AwsCallCounter
from cmltui.sources.cml_client import CMLRequestStats
from tests.core_factories import running_worker

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class ScriptedCollector:
    """Stands in for the collector: returns prepared snapshots, can be held open."""

    clock: ManualClock
    gate: asyncio.Event | None = None
    empty_with_errors: bool = False
    calls: int = 0
    running: int = 0
    most_running: int = 0
    workers: tuple[CMLWorkerDto, ...] = ()
    first_looks: list[bool] = field(default_factory=list)  # per call: a first look or not

    async def collect(self, *, first_look: bool = False) -> FleetSnapshot:
        self.calls += 1
        self.first_looks.append(first_look)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if self.gate is not None:
                await self.gate.wait()
            errors = ("us-east-1: AuthFailure: no credentials",) if self.empty_with_errors else ()
            workers = () if self.empty_with_errors else self.workers
            return FleetSnapshot(collected_at=self.clock.now(), workers=workers, errors=errors)
        finally:
            self.running -= 1


@dataclass
class IdleCheckerStub:
    checks: int = 0
    tick_seconds: float = 0.01

    async def check_due(self) -> list[object]:
        self.checks += 1
        return []


@dataclass
class ActionsStub:
    """Publishes its event on the core's activity channel itself, as `Actions` does."""

    clock: ManualClock
    activity: Subscribers[ActivityEvent]
    warnings: Subscribers[str]

    async def toggle_idle_detection(self, worker_id: str, shown_enabled: bool):
        event = IdleDetectionToggled(
            worker_id=worker_id,
            is_enabled=not shown_enabled,
            toggled_by="tester",
            toggled_at=self.clock.now(),
        )
        self.activity.publish(event)
        self.warnings.publish(f"{worker_id}: a warning the toggle left behind")
        return event


@dataclass
class CoreStub:
    """The parts of `Core` the service touches; the real core is covered by the sim tests."""

    config: Config
    clock: ManualClock
    collector: ScriptedCollector
    idle_checker: IdleCheckerStub
    actions: ActionsStub
    activity: Subscribers[ActivityEvent]
    warnings: Subscribers[str]
    closed: bool = False
    # What the collector's health is read from: the real counters, untouched here.
    cml: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(stats=CMLRequestStats()))
    aws: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(calls=AwsCallCounter()))
    accounts: list[SimpleNamespace] = field(
        default_factory=lambda: [SimpleNamespace(account=None, calls=AwsCallCounter())]
    )

    async def close(self) -> None:
        self.closed = True


def make_service(config: Config | None = None) -> tuple[CoreService, CoreStub]:
    config = config or Config()
    clock = ManualClock(T0)
    activity: Subscribers[ActivityEvent] = Subscribers()
    warnings: Subscribers[str] = Subscribers(keep=10)
    warnings.publish("raised while the core opened")
    actions = ActionsStub(clock, activity, warnings)
    core = CoreStub(
        config, clock, ScriptedCollector(clock), IdleCheckerStub(), actions, activity, warnings
    )

    async def opener(cadence, progress):
        progress("opening", 0.5)
        return core

    service = CoreService(config=config, context=BackendContext(), opener=opener, label="test")
    return service, core


async def test_a_cycle_asked_for_during_a_running_one_follows_it_never_alongside():
    service, core = make_service()
    core.collector.gate = asyncio.Event()
    snapshots: list[FleetSnapshot] = []
    service.subscribe_snapshots(snapshots.append)
    first = asyncio.create_task(service.collect())
    await asyncio.sleep(0.01)
    assert await service.collect() is None  # absorbed: one more follows the running one
    service.refresh_now()
    assert core.collector.calls == 1 and core.collector.most_running == 1
    core.collector.gate.set()
    await first
    assert len(snapshots) == 1 and service._refresh_requested
    await service.close()
    assert core.closed


async def test_the_loop_publishes_snapshots_and_starts_the_idle_checker_only_with_workers():
    service, core = make_service(Config.model_validate({"intervals": {"collector": 2}}))
    statuses: list[SourceStatus] = []
    service.subscribe_status(statuses.append)
    snapshots: list[FleetSnapshot] = []
    service.subscribe_snapshots(snapshots.append)
    await service.start()
    for _ in range(100):
        if snapshots:
            break
        await asyncio.sleep(0.01)
    assert snapshots and snapshots[0].collected_at == T0
    assert [s.state for s in statuses][:2] == ["starting", "starting"]
    assert any(s.detail == "opening" and s.progress == 0.5 for s in statuses)
    assert statuses[-1].state == "ok"
    assert core.idle_checker.checks == 0  # no workers listed: nothing to check yet
    service.refresh_now()
    for _ in range(100):
        if len(snapshots) >= 2:
            break
        await asyncio.sleep(0.01)
    assert len(snapshots) >= 2  # a refresh runs a cycle now, not an interval later
    await service.close()


async def _until(condition, what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def test_the_loop_opens_with_a_first_look_and_reads_the_rest_at_once():
    service, core = make_service()  # the interval is 10 s: no cycle here waits for it
    core.collector.workers = (map_worker_to_dto(running_worker(), MapContext(now=T0)),)
    snapshots: list[FleetSnapshot] = []
    service.subscribe_snapshots(snapshots.append)
    await service.start()
    await _until(lambda: len(snapshots) >= 2, "a whole cycle after the first look")
    # (a third follows: the idle checker's first round asks for one)
    assert core.collector.first_looks[:2] == [True, False]
    await service.close()


async def test_a_first_look_that_lists_no_worker_is_followed_by_another_first_look():
    service, core = make_service()
    core.collector.empty_with_errors = True
    await service.start()
    await _until(lambda: core.collector.calls >= 1, "the first cycle")
    await asyncio.sleep(0.1)
    assert core.collector.first_looks == [True]  # backing off: the next one after 10 s
    core.collector.empty_with_errors = False
    core.collector.workers = (map_worker_to_dto(running_worker(), MapContext(now=T0)),)
    service.refresh_now()
    await _until(lambda: core.collector.calls >= 3, "the first look and the cycle after it")
    assert core.collector.first_looks[:3] == [True, True, False]
    await service.close()


async def test_cycles_that_list_no_region_back_off_and_say_so():
    service, core = make_service()
    core.collector.empty_with_errors = True
    statuses: list[SourceStatus] = []
    service.subscribe_status(statuses.append)
    delays = []
    for _ in range(6):
        await service.collect()
        delays.append(service._next_delay())
    assert delays == [10, 20, 40, 80, 160, RETRY_CAP_SECONDS]
    assert statuses[-1].state == "retrying"
    assert "AuthFailure" in (statuses[-1].detail or "")
    assert statuses[-1].retry_at is not None
    health = service.collector_health()  # what the exporter's "collector failing" alert reads
    assert (health.cycles, health.failures, health.last_success_at) == (0, 6, None)
    core.collector.empty_with_errors = False
    await service.collect()
    assert service._next_delay() == 10 and statuses[-1].state == "ok"
    health = service.collector_health()
    assert (health.cycles, health.failures, health.last_success_at) == (1, 6, core.clock.now())
    assert health.last_cycle_seconds is not None and health.last_cycle_seconds >= 0


async def test_the_interval_is_kept_once_and_clamped():
    service, _ = make_service()
    assert service.interval == 10
    assert service.set_interval(0.5) == 2
    assert service.set_interval(10_000) == 600
    core = await service.open()
    assert core is not None and service.cadence.seconds == 600


async def test_actions_publish_their_event_once_and_wait_for_the_core():
    service, _ = make_service()
    with pytest.raises(ActionRefused, match="still being read"):
        await service.toggle_idle_detection("i-1", shown_enabled=True)
    events = []
    service.subscribe_activity(events.append)
    await service.open()
    event = await service.toggle_idle_detection("i-1", shown_enabled=True)
    assert events == [event] and event.is_enabled is False  # once: the service adds no copy


async def test_warnings_arrive_as_messages_and_a_late_subscriber_gets_the_earlier_ones():
    service, _ = make_service()
    early: list[str] = []
    service.subscribe_warnings(early.append)
    await service.open()
    assert early == ["raised while the core opened"]
    await service.toggle_idle_detection("i-1", shown_enabled=True)
    assert early[-1] == "i-1: a warning the toggle left behind" and len(early) == 2
    late: list[str] = []
    service.subscribe_warnings(late.append)
    assert late == early  # the dashboard mounting later still sees them, once each


def test_interval_ladder_steps_round_values_both_ways():
    assert step_interval(10, +1) == 15 and step_interval(10, -1) == 5
    assert step_interval(600, +1) == 600 and step_interval(2, -1) == 2
    assert step_interval(37.5, -1) == 30 and step_interval(37.5, +1) == 60
    value = 600.0
    for _ in range(len(LADDER)):
        value = step_interval(value, -1)
    assert value == 2 and clamp_interval(1) == 2 and Cadence(9999).seconds == 600


@pytest.mark.parametrize(
    ("kind", "status", "read_only", "in_flight", "expected"),
    [
        ("pause", WorkerStatus.RUNNING, False, False, None),
        ("pause", WorkerStatus.STOPPED, False, False, "already stopped"),
        ("pause", WorkerStatus.STOPPING, False, False, "already stopping"),
        ("pause", WorkerStatus.PENDING, False, False, "only a running worker"),
        ("resume", WorkerStatus.STOPPED, False, False, None),
        ("resume", WorkerStatus.RUNNING, False, False, "already running"),
        ("resume", WorkerStatus.STOPPING, False, False, "only a stopped worker"),
        ("toggle_idle_detection", WorkerStatus.STOPPED, False, False, None),
        ("toggle_idle_detection", WorkerStatus.TERMINATED, False, False, "terminated"),
        ("pause", WorkerStatus.RUNNING, True, False, "read-only mode: pause not sent"),
        ("resume", WorkerStatus.STOPPED, False, True, "already in flight"),
    ],
)
def test_one_precondition_rule(kind, status, read_only, in_flight, expected):
    why = action_refusal(kind, name="w", status=status, read_only=read_only, in_flight=in_flight)
    if expected is None:
        assert why is None
    else:
        assert why is not None and expected in why


def test_auto_pause_meets_the_same_rule_and_the_idle_detection_switch():
    def why(status: WorkerStatus, detection: bool, read_only: bool = False) -> str | None:
        return action_refusal(
            "auto_pause", name="w", status=status, read_only=read_only, idle_detection=detection
        )

    assert why(WorkerStatus.RUNNING, True) is None
    assert "idle detection is off" in (why(WorkerStatus.RUNNING, False) or "")
    assert "already stopped" in (why(WorkerStatus.STOPPED, True) or "")
    assert why(WorkerStatus.RUNNING, True, read_only=True) == "read-only mode: auto pause not sent"
    # The switch matters to auto-pause only: an operator's pause of that worker is allowed.
    assert (
        action_refusal("pause", name="w", status=WorkerStatus.RUNNING, idle_detection=False) is None
    )


def test_events_do_not_import_the_mapper():
    code = "import cmltui.api.events, sys; print('cmltui.mapper' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
