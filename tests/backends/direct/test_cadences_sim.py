"""What is read how often, and what makes it read sooner (README, "What is read how often").

Against the simulated fleet with a stepped clock and the simulator's own background step off,
so that nothing changes unless a test changes it. Requests are counted per worker by the CML
client; AWS calls by botocore's event hooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from cmltui.clock import ManualClock
from cmltui.sim import Fault, SimulatedFleet
from tests.backends.direct.sim_core import T0, make_core
from tests.worker_lookup import by_name

pytestmark = pytest.mark.asyncio(loop_scope="function")

SLOW = ("cml_version", "cml_system_health", "labs", "cml_license_info", "recent_users")


@pytest_asyncio.fixture
async def still_fleet() -> AsyncIterator[SimulatedFleet]:
    """12 workers on a ManualClock; the simulator moves only when a test steps it."""
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(T0), tick_s=3600)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


class Requests:
    """CML requests per worker since the last `take()`."""

    def __init__(self, core) -> None:
        self.core = core
        self.seen = dict(core.cml.stats.requests_by_worker)

    def take(self) -> dict[str, int]:
        now = dict(self.core.cml.stats.requests_by_worker)
        made = {key: now[key] - self.seen.get(key, 0) for key in now}
        self.seen = now
        return made


def aws_ops(core) -> dict[str, int]:
    ops = {op: n for (_r, _s, op), n in core.aws.calls.snapshot().items()}
    core.aws.calls.reset()
    return ops


def full_read(labs: int) -> int:
    """system_information, stats, health, lab ids, each lab, licensing, users."""
    return 6 + labs


async def test_steady_cycles_read_stats_and_each_slow_fact_once_per_cadence(still_fleet, tmp_path):
    fleet = still_fleet
    core = make_core(fleet, tmp_path)
    try:
        await core.collector.collect()  # cold: everything, staggered from here on
        requests, _ = Requests(core), aws_ops(core)
        totals: dict[str, int] = {}
        status_calls = 0
        for _ in range(12):  # two minutes at the default 10 s
            fleet.clock.advance(10)
            snap = by_name(await core.collector.collect())
            for worker_id, made in requests.take().items():
                totals[worker_id] = totals.get(worker_id, 0) + made
            ops = aws_ops(core)
            assert ops.get("DescribeInstances") == 1
            status_calls += ops.get("DescribeInstanceStatus", 0)
        assert core.cml.stats.logins == 12 - 2  # the cold cycle's only: not stopped, not down
        reachable = [w for w in fleet.workers if w.name not in ("cml-stopped-06", "cml-down-07")]
        for worker in reachable:
            # 12 x /system_stats, and health and the lab ids once each (120 s cadences, the
            # first staggered to 60-120 s); system information (300 s), lab details (900 s),
            # users (600 s) and licensing (3600 s) not yet.
            assert totals[worker.instance_id] == 12 + 2, worker.name
            ages = snap[worker.name].fact_ages_seconds
            assert ages["cml_system_health"] <= 60 and ages["labs"] <= 60, (worker.name, ages)
            assert ages["cml_version"] == ages["cml_license_info"] == 120, (worker.name, ages)
        assert totals[fleet.worker("cml-down-07").instance_id] == 12  # one refused probe each
        assert fleet.worker("cml-stopped-06").instance_id not in totals
        per_cycle = sum(totals.values()) / len(reachable) / 12
        assert per_cycle <= 1.5, per_cycle
        assert status_calls == 2  # EC2 status checks: once a minute
        assert snap["cml-busy-01"].fact_ages_seconds["ec2_system_status_check"] <= 10
    finally:
        await core.close()


async def test_licence_survives_a_pause_and_is_read_on_the_first_cycle_after_resume(
    still_fleet, tmp_path
):
    fleet = still_fleet
    core = make_core(fleet, tmp_path)
    name = "cml-idle-03"
    worker = fleet.worker(name)
    try:
        first = by_name(await core.collector.collect())[name]
        assert first.license_status == "registered" and first.cml_version
        requests, _ = Requests(core), aws_ops(core)

        await core.actions.pause(worker.instance_id)
        fleet.step()
        await fleet.sync()
        fleet.clock.advance(10)
        stopped = by_name(await core.collector.collect())[name]
        assert stopped.status == "stopped" and stopped.cpu_utilization is None
        # kept, with their age
        assert stopped.license_status == "registered"
        assert stopped.cml_license_info == first.cml_license_info
        assert stopped.cml_version == first.cml_version
        assert stopped.fact_ages_seconds["cml_license_info"] == 10
        assert stopped.fact_ages_seconds["cml_version"] == 10
        # a state change reads the EC2 status checks at once, off their cadence
        assert aws_ops(core).get("DescribeInstanceStatus") == 1
        assert stopped.fact_ages_seconds["ec2_system_status_check"] == 0

        fleet.clock.advance(30 * 60)
        stopped = by_name(await core.collector.collect())[name]
        assert stopped.license_status == "registered"
        assert stopped.fact_ages_seconds["cml_license_info"] == 10 + 30 * 60
        requests.take()

        await core.actions.resume(worker.instance_id)
        fleet.step()
        await fleet.sync()
        fleet.clock.advance(10)
        booting = by_name(await core.collector.collect())[name]
        assert booting.service_status == "starting"  # CML still boots: it refuses
        assert booting.license_status == "registered"  # still shown, with its age
        assert requests.take()[worker.instance_id] == 1  # one refused probe

        fleet.clock.advance(fleet.boot_delay_s)
        fleet.step()
        await fleet.sync()
        waking = by_name(await core.collector.collect())[name]
        # CML answers but its services are still starting (ready: false, logins refused)
        assert (waking.service_status, waking.cml_ready) == ("starting", False)
        assert waking.license_status == "registered"  # the old licence, with its age
        assert waking.fact_ages_seconds["cml_license_info"] > 0
        assert requests.take()[worker.instance_id] == 2  # system_information, a login try

        fleet.clock.advance(fleet.ready_delay_s)
        fleet.step()
        await fleet.sync()
        answered = by_name(await core.collector.collect())[name]
        assert answered.service_status == "available"
        # the first cycle in which CML answers reads every slow fact again, not an hour later
        assert answered.license_status == "registered"
        assert all(answered.fact_ages_seconds[fact] == 0 for fact in SLOW), answered
        labs = len(answered.labs or [])
        # and one login: a stopped CML forgets its sessions, so the old token is not tried
        assert requests.take()[worker.instance_id] == full_read(labs) + 1
    finally:
        await core.close()


async def test_an_outage_reads_everything_at_the_first_answer(still_fleet, tmp_path):
    fleet = still_fleet
    core = make_core(fleet, tmp_path)
    name = "cml-busy-01"
    worker = fleet.worker(name)
    try:
        first = by_name(await core.collector.collect())[name]
        requests = Requests(core)
        fleet.set_fault(name, Fault.REFUSE)
        await fleet.sync()
        for _ in range(2):
            fleet.clock.advance(10)
            down = by_name(await core.collector.collect())[name]
            assert requests.take()[worker.instance_id] == 1  # stats, then the liveness probe
            assert down.service_status == "error"
            assert (down.cml_version, down.license_status) == (
                first.cml_version,
                first.license_status,
            )
            assert down.fact_ages_seconds["cml_license_info"] > 0
        fleet.set_fault(name, None)
        await fleet.sync()
        fleet.clock.advance(10)
        back = by_name(await core.collector.collect())[name]
        assert back.service_status == "available"
        assert all(back.fact_ages_seconds[fact] == 0 for fact in SLOW), back.fact_ages_seconds
        assert requests.take()[worker.instance_id] == full_read(len(back.labs))
    finally:
        await core.close()


async def test_a_node_count_change_reads_the_labs_in_the_same_cycle(still_fleet, tmp_path):
    fleet = still_fleet
    core = make_core(fleet, tmp_path)
    name = "cml-busy-01"
    worker = fleet.worker(name)
    try:
        first = by_name(await core.collector.collect())[name]
        requests = Requests(core)
        lab = next(lab for lab in worker.model.labs if lab.state == "STOPPED")
        lab.state = "STARTED"  # someone starts a lab: running nodes go up
        fleet.clock.advance(10)
        snap = by_name(await core.collector.collect())[name]
        assert snap.running_nodes == first.running_nodes + lab.node_count
        assert {dto.id: dto.state for dto in snap.labs}[lab.id] == "STARTED"
        assert snap.active_labs_count == first.active_labs_count + 1
        assert snap.fact_ages_seconds["labs"] == 0
        # stats, the lab ids, every lab's details
        assert requests.take()[worker.instance_id] == 2 + len(snap.labs)
        fleet.clock.advance(10)
        await core.collector.collect()
        assert requests.take()[worker.instance_id] == 1  # settled: stats only
    finally:
        await core.close()


async def test_read_soon_reads_that_worker_on_the_next_cycle(still_fleet, tmp_path):
    fleet = still_fleet
    core = make_core(fleet, tmp_path)
    name = "cml-labs-02"
    worker = fleet.worker(name)
    try:
        await core.collector.collect()
        requests, _ = Requests(core), aws_ops(core)
        core.collector.read_soon(worker.instance_id)  # e.g. an action on it just completed
        fleet.clock.advance(10)
        snap = by_name(await core.collector.collect())
        made = requests.take()
        assert made[worker.instance_id] == full_read(len(snap[name].labs))
        assert all(snap[name].fact_ages_seconds[fact] == 0 for fact in SLOW)
        others = [w for w in fleet.workers if w.name not in (name, "cml-stopped-06")]
        assert all(made[w.instance_id] == 1 for w in others), made
        assert aws_ops(core) == {"DescribeInstances": 1, "DescribeInstanceStatus": 1}
    finally:
        await core.close()


async def test_a_completed_action_reads_its_worker_on_the_next_cycle(still_fleet, tmp_path):
    """The actions tell the collector (`read_soon`): a toggle's worker is read in full next
    cycle, the others only for their stats."""
    fleet = still_fleet
    core = make_core(fleet, tmp_path)
    name = "cml-labs-02"
    worker = fleet.worker(name)
    try:
        await core.collector.collect()
        fleet.clock.advance(10)
        await core.collector.collect()
        requests = Requests(core)
        await core.actions.toggle_idle_detection(worker.instance_id, shown_enabled=False)
        fleet.clock.advance(10)
        snap = by_name(await core.collector.collect())
        made = requests.take()
        assert made[worker.instance_id] == full_read(len(snap[name].labs))
        others = [w for w in fleet.workers if w.name not in (name, "cml-stopped-06")]
        assert all(made[w.instance_id] == 1 for w in others), made
    finally:
        await core.close()


async def test_a_first_look_reads_what_rows_show_and_the_next_cycle_reads_the_rest(
    still_fleet, tmp_path
):
    fleet = still_fleet
    core = make_core(fleet, tmp_path)
    requests = Requests(core)
    reachable = [w for w in fleet.workers if w.name not in ("cml-stopped-06", "cml-down-07")]
    try:
        look = by_name(await core.collector.collect(first_look=True))
        made = requests.take()
        ops = aws_ops(core)
        assert ops == {"DescribeInstances": 1, "DescribeImages": 1}  # no status checks, no CW
        for worker in reachable:
            # system information, login, stats, health: one after another on one connection
            assert made[worker.instance_id] == 4, worker.name
            assert fleet.open_connections(worker.name) == 1, worker.name
            row = look[worker.name]
            assert row.cpu_utilization is not None and row.cml_version, worker.name
            assert row.labs is None and row.license_status is None, worker.name  # not yet read
        assert look["cml-busy-01"].service_status == "available"
        assert look["cml-degraded-08"].service_status == "degraded"
        down = look["cml-down-07"]
        assert down.service_status == "error" and down.cloudwatch_cpu_utilization is None

        fleet.clock.advance(1)  # the service runs the next cycle at once
        rest = by_name(await core.collector.collect())
        made = requests.take()
        ops = aws_ops(core)
        assert ops.get("DescribeInstanceStatus") == 1 and ops.get("GetMetricData", 0) >= 1
        assert core.cml.stats.logins == len(reachable)  # the first look's: tokens kept
        for worker in reachable:
            labs = len(worker.model.labs)
            # stats, and the slow reads the first look left: lab ids, each lab, licence, users
            assert made[worker.instance_id] == 1 + 1 + labs + 2, worker.name
            row = rest[worker.name]
            assert row.labs is not None and len(row.labs) == labs, worker.name
            assert row.license_status is not None, worker.name
            assert row.ec2_system_status_check is not None, worker.name
        assert rest["cml-idle-03"].license_status == "registered"
        assert rest["cml-down-07"].cloudwatch_cpu_utilization is not None  # the fallback
    finally:
        await core.close()
