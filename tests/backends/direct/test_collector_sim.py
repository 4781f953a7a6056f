"""The collector against the simulated fleet: every state of the mix, faults, call counts.

Expectations are written by hand from the fleet's design (its 12-role mix), not computed by the
mapper.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from botocore.stub import Stubber

from cmltui.sim import Fault
from tests.backends.direct.sim_core import make_core
from tests.worker_lookup import by_name

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def full_snapshot(core):
    await core.collector.collect()
    await core.idle_checker.check_due()
    return await core.collector.collect()


async def test_full_cycle_maps_every_simulated_state(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    try:
        snap = await full_snapshot(core)
    finally:
        await core.close()
    workers = by_name(snap)
    assert len(workers) == 12 and snap.errors == ()

    busy = workers["cml-busy-01"]
    assert (busy.status, busy.service_status, busy.license_status) == (
        "running",
        "available",
        "registered",
    )
    # A healthy worker has every CML field filled.
    for field in (
        "cml_version",
        "cml_ready",
        "cml_uptime_seconds",
        "cml_labs_count",
        "cml_system_info",
        "cml_system_health",
        "cml_last_synced_at",
        "cml_license_info",
        "cpu_utilization",
        "memory_utilization",
        "storage_utilization",
        "active_labs_count",
        "labs",
        "https_endpoint",
        "public_ip",
        "private_ip",
        "ami_name",
        "created_at",
        "last_activity_at",
        "target_pause_at",
        "next_idle_check_at",
    ):
        assert getattr(busy, field) is not None, field
    assert busy.cml_version.startswith("2.9")
    assert busy.cml_ready is True
    assert busy.ami_name.startswith("cml-2.9")
    assert busy.errors == {}
    assert busy.is_idle is False
    assert busy.cml_system_info["computes"]

    labs = workers["cml-labs-02"]
    assert labs.cml_labs_count == 15 and len(labs.labs) == 15
    assert labs.is_idle_detection_enabled is False
    assert labs.target_pause_at is None
    assert 0 < labs.active_labs_count < 15

    idle = workers["cml-idle-03"]
    assert idle.is_idle is True and idle.idle_minutes >= 170
    assert idle.eligible_for_auto_pause is True
    assert idle.target_pause_at < snap.collected_at

    snooze = workers["cml-snooze-04"]
    assert snooze.in_snooze_period is True
    assert snooze.last_resumed_at == fleet.t0 - timedelta(minutes=20)  # as the fleet was made
    assert (snooze.manual_resume_count, snooze.auto_pause_count) == (1, 1)
    assert snooze.pause_reason == "idle_timeout"
    assert snooze.target_pause_at > snap.collected_at + timedelta(minutes=30)

    near = workers["cml-nearpause-05"]
    assert near.is_idle is False
    assert timedelta(0) < near.target_pause_at - snap.collected_at <= timedelta(minutes=15)

    stopped = workers["cml-stopped-06"]
    assert (stopped.status, stopped.service_status) == ("stopped", "unavailable")
    assert stopped.public_ip is None and stopped.https_endpoint is None
    assert stopped.cpu_utilization is None and stopped.cml_version is None
    assert stopped.hourly_cost == 0.0

    down = workers["cml-down-07"]
    assert (down.status, down.service_status) == ("running", "error")
    assert "connection refused" in down.errors["cml"]
    assert down.cml_version is None
    # CML has nothing, so CloudWatch is the fallback
    assert down.cpu_utilization is not None
    assert down.cpu_utilization == down.cloudwatch_cpu_utilization

    assert workers["cml-degraded-08"].service_status == "degraded"
    assert workers["cml-degraded-08"].cml_system_health["valid"] is False

    noagent = workers["cml-noagent-09"]
    assert noagent.service_status == "available" and noagent.memory_utilization is not None

    assert workers["cml-eval-10"].license_status == "evaluation"
    assert workers["cml-expired-11"].license_status == "expired"
    assert workers["cml-unreg-12"].license_status == "unregistered"


async def test_no_agent_worker_falls_back_to_cloudwatch_cpu_only(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    fleet.set_fault("cml-noagent-09", Fault.REFUSE)
    try:
        workers = by_name(await core.collector.collect())
    finally:
        fleet.set_fault("cml-noagent-09", None)
        await core.close()
    noagent = workers["cml-noagent-09"]
    assert noagent.cloudwatch_cpu_utilization is not None
    assert noagent.cpu_utilization == noagent.cloudwatch_cpu_utilization
    assert noagent.memory_utilization is None and noagent.storage_utilization is None


FAULTS = [
    (Fault.REFUSE, {}, "connection refused"),
    (Fault.HTTP_500, {}, "HTTP 500"),
    (Fault.UNAUTHORIZED, {}, "401"),
    (Fault.MALFORMED_JSON, {}, "malformed JSON"),
    (Fault.WRONG_SHAPE, {}, "unexpected response shape"),
    (Fault.TLS_FAILURE, {}, "TLS"),
    (Fault.HANG, {}, "timeout"),
]


@pytest.mark.parametrize(("fault", "params", "needle"), FAULTS, ids=[f[0].value for f in FAULTS])
async def test_each_fault_lands_on_that_worker_only(fleet, tmp_path, fault, params, needle):
    core = make_core(fleet, tmp_path, cml__request_timeout=1.0)
    baseline = by_name(await core.collector.collect())
    fleet.set_fault("cml-busy-01", fault, **params)
    await fleet.sync()
    try:
        workers = by_name(await core.collector.collect())
    finally:
        fleet.set_fault("cml-busy-01", None)
        await fleet.sync()
        await core.close()
    hit = workers["cml-busy-01"]
    assert hit.service_status == "error", hit.errors
    assert needle.lower() in hit.errors["cml"].lower()
    # last good values are kept, with their age
    assert hit.cpu_utilization == baseline["cml-busy-01"].cpu_utilization
    assert hit.cml_stale_seconds is not None
    for name, dto in workers.items():
        if name in ("cml-busy-01", "cml-down-07"):
            continue
        assert "cml" not in dto.errors, (name, dto.errors)
        assert dto.service_status == baseline[name].service_status, name


async def test_hung_worker_does_not_hold_the_cycle_beyond_the_timeout(fleet, tmp_path):
    core = make_core(fleet, tmp_path, cml__request_timeout=1.0)
    await core.collector.collect()
    fleet.set_fault("cml-idle-03", Fault.HANG)
    try:
        began = time.monotonic()
        workers = by_name(await core.collector.collect())
        elapsed = time.monotonic() - began
    finally:
        fleet.set_fault("cml-idle-03", None)
        await core.close()
    assert "timeout" in workers["cml-idle-03"].errors["cml"]
    assert workers["cml-busy-01"].service_status == "available"
    assert elapsed < 1.0 + 5.0  # the timeout plus a generous allowance for a loaded machine


async def test_expiring_token_causes_one_relogin_not_one_per_call(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker = fleet.worker("cml-eval-10")
    try:
        await core.collector.collect()
        logins_before = core.cml.stats.logins_by_worker[worker.instance_id]
        assert logins_before == 1
        fleet.set_fault("cml-eval-10", Fault.TOKEN_EXPIRY, ttl_s=5)
        fleet.clock.advance(10)
        fleet.step()
        await fleet.sync()
        workers = by_name(await core.collector.collect())
        assert core.cml.stats.logins_by_worker[worker.instance_id] == 2
        assert workers["cml-eval-10"].service_status == "available"
    finally:
        fleet.set_fault("cml-eval-10", None)
        await core.close()


async def test_steady_state_call_counts(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    fleet.set_fault("cml-down-07", None)  # a fully healthy fleet
    await fleet.sync()
    try:
        # warm: logins, AMI names, labs, licensing, users
        first = by_name(await core.collector.collect())
        core.aws.calls.reset()
        requests_before = dict(core.cml.stats.requests_by_worker)
        logins_before = core.cml.stats.logins
        fleet.clock.advance(10)
        second = by_name(await core.collector.collect())
        calls = core.aws.calls.snapshot()
        ops = {op: n for (_region, _svc, op), n in calls.items()}
        # status checks are on their own (60 s) cadence, not due 10 s after the first cycle
        assert ops == {"DescribeInstances": 1}, ops
        assert core.aws.calls.metrics_requested() == 0  # no CloudWatch for a healthy fleet
        assert core.cml.stats.logins == logins_before  # no logins at steady state
        running = [w for w in fleet.workers if w.name != "cml-stopped-06"]
        for worker in running:
            made = core.cml.stats.requests_by_worker[worker.instance_id] - requests_before.get(
                worker.instance_id, 0
            )
            if first[worker.name].running_nodes == second[worker.name].running_nodes:
                assert made == 1, (worker.name, made)  # /system_stats only: the rest not due
            else:  # the simulator started or stopped a lab meanwhile: its labs are read at once
                assert made >= 3, (worker.name, made)  # stats, lab ids, lab details
        stopped = fleet.worker("cml-stopped-06").instance_id
        assert core.cml.stats.requests_by_worker[stopped] == 0
        core.aws.calls.reset()
        fleet.clock.advance(60)  # the status checks' cadence
        await core.collector.collect()
        ops = {op: n for (_region, _svc, op), n in core.aws.calls.snapshot().items()}
        assert ops == {"DescribeInstances": 1, "DescribeInstanceStatus": 1}, ops
    finally:
        fleet.set_fault("cml-down-07", Fault.REFUSE)
        await core.close()


async def test_cloudwatch_only_for_workers_needing_it_and_not_every_cycle(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    try:
        await core.collector.collect()
        first = core.aws.calls.metrics_requested()
        # cml-down-07 only: cpu, memory, and disk for its two mounts ("/" and the data path)
        assert first == 4
        ops = {op: n for (_r, _s, op), n in core.aws.calls.snapshot().items()}
        assert ops["GetMetricData"] == 1 and "GetMetricStatistics" not in ops
        core.aws.calls.reset()
        fleet.clock.advance(60)
        await core.collector.collect()  # within the CloudWatch interval: no new request
        assert core.aws.calls.metrics_requested() == 0
        fleet.clock.advance(300)
        await core.collector.collect()
        snap = core.aws.calls.snapshot()
        assert core.aws.calls.metrics_requested() == 4
        assert sum(n for (_r, _s, op), n in snap.items() if op == "ListMetrics") == 0  # cached
    finally:
        await core.close()


async def test_updated_at_moves_only_on_observed_change(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    try:
        first = by_name(await core.collector.collect())
        second = by_name(await core.collector.collect())  # same clock: nothing observed changed
    finally:
        await core.close()
    stopped1, stopped2 = first["cml-stopped-06"], second["cml-stopped-06"]
    assert stopped2.updated_at == stopped1.updated_at
    assert stopped2.ec2_last_checked_at == stopped1.ec2_last_checked_at


async def test_lab_details_follow_a_changed_id_list_in_the_same_cycle(fleet, tmp_path):
    core = make_core(fleet, tmp_path)
    worker = fleet.worker("cml-busy-01")
    try:
        first = by_name(await core.collector.collect())["cml-busy-01"]
        known_ids = {lab.id for lab in first.labs}
        model = worker.model
        before = dict(core.cml.stats.requests_by_worker)
        fleet.clock.advance(10)
        steady_dto = by_name(await core.collector.collect())["cml-busy-01"]
        steady = core.cml.stats.requests_by_worker[worker.instance_id] - before.get(
            worker.instance_id, 0
        )
        if steady_dto.running_nodes == first.running_nodes:
            assert steady == 1  # nothing slow due, node counts unchanged: stats only
        removed = sorted(known_ids)[0]
        model.labs = [lab for lab in model.labs if lab.id != removed]
        fleet.clock.advance(10)  # the total node count in the stats moves: labs are read now
        snap = by_name(await core.collector.collect())["cml-busy-01"]
        assert {lab.id for lab in snap.labs} == known_ids - {removed}
        assert snap.cml_labs_count == len(known_ids) - 1
    finally:
        await core.close()


async def test_two_regions_listed_and_a_failing_region_leaves_the_other(fleet, tmp_path):
    core = make_core(fleet, tmp_path, aws__regions=["us-east-1", "eu-west-1"])
    ec2_eu = core.aws.client("ec2", "eu-west-1")
    image = ec2_eu.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    made = ec2_eu.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="c5.metal",
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Name", "Value": "cml-eu-01"},
                    {"Key": "cml-worker", "Value": "1"},
                    # a closed loopback port: tests never reach beyond 127.0.0.1
                    {"Key": "cmltui:cml-url", "Value": "https://127.0.0.1:9"},
                ],
            }
        ],
    )["Instances"][0]["InstanceId"]
    try:
        both = by_name(await core.collector.collect())
        assert both["cml-eu-01"].aws_region == "eu-west-1"
        assert both["cml-busy-01"].aws_region == "us-east-1"
        with Stubber(ec2_eu) as stub:
            stub.add_client_error("describe_instances", "UnauthorizedOperation", "denied")
            snap = await core.collector.collect()
        workers = by_name(snap)
        assert len(snap.errors) == 1 and "eu-west-1" in snap.errors[0]
        assert "denied" in snap.errors[0] or "Unauthorized" in snap.errors[0]
        assert workers["cml-busy-01"].service_status == "available"
        assert workers["cml-busy-01"].errors == {}
        # the failed region's worker is kept, marked with the region error, not dropped
        assert "ec2" in workers["cml-eu-01"].errors
    finally:
        ec2_eu.terminate_instances(InstanceIds=[made])
        await core.close()
