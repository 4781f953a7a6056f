"""Two AWS accounts as one fleet, on the simulator: moto keeps the accounts apart by access key,
each account is reached through its own profile (or a role), and every action goes to the
worker's own account."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from botocore.stub import Stubber

from cmltui.audit import AuditLog, read_entries
from cmltui.backends.direct.demo import demo_config, simulator_endpoints
from cmltui.backends.direct.wiring import Core, Endpoints, build_core
from cmltui.clock import ManualClock
from cmltui.config import Config
from cmltui.domain.accounts import split_key, worker_key
from cmltui.sim import SimulatedFleet
from cmltui.sources.aws_identity import name_from_arn
from cmltui.sources.aws_role import role_session_name
from tests.conftest import SIM_T0

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def two() -> AsyncIterator[SimulatedFleet]:
    sim = SimulatedFleet(workers=12, seed=0, clock=ManualClock(SIM_T0), accounts=2)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


def accounts_config(fleet: SimulatedFleet, **second: str) -> Config:
    """The demo's config with the accounts spelt as a user would: by profile, or for the
    second one whatever `second` says (a role)."""
    data = demo_config(Config(), fleet.region).model_dump()
    data["aws"]["accounts"] = [
        {"name": "training", "profile": "cmltui-sim-training"},
        {"name": "development", **(second or {"profile": "cmltui-sim-development"})},
    ]
    return Config.model_validate(data)


def core_for(fleet: SimulatedFleet, config: Config, tmp_path, **endpoints: object) -> Core:
    sim = simulator_endpoints(fleet)
    return build_core(
        config,
        Endpoints(
            aws_endpoint_url=sim.aws_endpoint_url,
            cml_password=sim.cml_password,
            cml_ca_bundle=sim.cml_ca_bundle,
            **endpoints,  # type: ignore[arg-type]
        ),
        fleet.clock,
        audit=AuditLog(tmp_path / "audit.jsonl"),
        operator="tester",
    )


@pytest.fixture
def profiles(two: SimulatedFleet, monkeypatch, tmp_path) -> None:
    """The profiles `simulate --accounts 2` prints, and nothing else of the user's."""
    assert two.credentials_file is not None
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(two.credentials_file))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def simulated(two: SimulatedFleet) -> dict[str, tuple[str, str]]:
    """worker key -> (name, account) as the simulator made them."""
    return {
        worker_key(w.account_name, w.instance_id): (w.name, w.account_name or "")
        for w in two.workers
    }


async def test_profiles_make_one_fleet_keyed_by_account(two, tmp_path, profiles):
    core = core_for(two, accounts_config(two), tmp_path)
    try:
        snapshot = await core.collector.collect()
    finally:
        await core.close()
    assert snapshot.errors == ()
    assert {d.id: (d.name, d.aws_account) for d in snapshot.workers} == simulated(two)
    assert {d.aws_account for d in snapshot.workers} == {"training", "development"}
    for dto in snapshot.workers:
        assert split_key(dto.id) == (dto.aws_account, dto.aws_instance_id)
    # Each account was listed with its own client: one DescribeInstances each.
    for name in ("training", "development"):
        calls = core.accounts.source(name).calls  # type: ignore[union-attr]
        assert calls.count(operation="DescribeInstances") == 1


async def test_pausing_a_worker_of_the_second_account_stops_it_there(two, tmp_path, profiles):
    target = next(w for w in two.workers if w.account_name == "development" and w.role == "labs")
    key = worker_key("development", target.instance_id)
    core = core_for(two, accounts_config(two), tmp_path)
    try:
        await core.collector.collect()
        event = await core.actions.pause(key)
        assert event.worker_id == key
        development, training = two.account("development"), two.account("training")
        assert development.states(two.region)[target.instance_id] == "stopped"
        assert target.instance_id not in training.states(two.region)
        assert all(state == "running" or w.role == "stopped" for w in two.workers
                   if w.account_name == "training"
                   for state in [training.states(two.region)[w.instance_id]])  # fmt: skip
        entries = read_entries(tmp_path / "audit.jsonl", key, None)
        assert [(e["action"], e["result"]) for e in entries] == [
            ("pause", "intent"),
            ("pause", "ok"),
        ]
        assert all(e["account"] == "development" for e in entries)
        assert all(e["instance_id"] == target.instance_id for e in entries)
        raw = (tmp_path / "audit.jsonl").read_text().splitlines()
        assert all(json.loads(line)["account"] == "development" for line in raw if line)
        await core.collector.collect()  # the listing confirms the stop
        resumed = await core.actions.resume(key)  # put back, through the same account
        assert resumed.worker_id == key
        assert development.states(two.region)[target.instance_id] == "running"
    finally:
        await core.close()


async def test_the_second_account_through_a_role_assumed_with_the_first_ones_key(two, tmp_path):
    """No profile at all: the base key is the first account's, the second is a role in it."""
    role = two.account("development").role_arn()
    config = accounts_config(two, role_arn=role, external_id="cmltui-test")
    config.aws.accounts[0].profile = None
    core = core_for(two, config, tmp_path, aws_credentials=two.account("training").credentials)
    try:
        snapshot = await core.collector.collect()
        assert snapshot.errors == ()
        assert {d.id for d in snapshot.workers} == set(simulated(two))
        dev = next(d for d in snapshot.workers if d.aws_account == "development")
        toggled = await core.actions.toggle_idle_detection(dev.id, dev.is_idle_detection_enabled)
        tags = two.account("development").instance(two.region, dev.aws_instance_id).get_tags()
        by_key = {t["key"]: t["value"] for t in tags}
        assert by_key["cmltui:idle-detection"] == ("enabled" if toggled.is_enabled else "disabled")
        sts = core.accounts.source("development").client("sts", two.region)  # type: ignore[union-attr]
        arn = sts.get_caller_identity()["Arn"]
        assert f":{two.account('development').account_id}:assumed-role/" in arn
        await core.actions.toggle_idle_detection(dev.id, toggled.is_enabled)  # put back
    finally:
        await core.close()


async def test_one_account_failing_leaves_the_others_rows_and_marks_its_own_stale(
    two, tmp_path, profiles
):
    core = core_for(two, accounts_config(two), tmp_path)
    try:
        first = {d.id: d for d in (await core.collector.collect()).workers}
        ec2 = core.accounts.source("development").client("ec2", two.region)  # type: ignore[union-attr]
        two.clock.advance(30)  # type: ignore[attr-defined]
        with Stubber(ec2) as stub:  # what moto cannot do: fail one account's listing
            stub.add_client_error("describe_instances", "AuthFailure", "credentials expired")
            second = await core.collector.collect()
        assert len(second.errors) == 1
        assert second.errors[0].startswith("development: us-east-1:")
        assert "AuthFailure" in second.errors[0]
        assert {d.id for d in second.workers} == set(first)  # no row lost
        for dto in second.workers:
            if dto.aws_account == "development":
                assert dto.status == first[dto.id].status
                assert dto.ec2_stale_seconds == 30 and "AuthFailure" in dto.errors["ec2"]
            else:
                assert dto.ec2_stale_seconds is None and "ec2" not in dto.errors
                assert dto.ec2_last_checked_at == second.collected_at
    finally:
        await core.close()


async def test_each_account_has_its_own_operator_name_from_its_own_sts(two, tmp_path):
    """Through a role, the operator is the role session's name: that of the base caller."""
    role = two.account("development").role_arn()
    config = accounts_config(two, role_arn=role)
    config.aws.accounts[0].profile = None
    sim = simulator_endpoints(two)
    core = build_core(
        config,
        Endpoints(
            aws_endpoint_url=sim.aws_endpoint_url,
            aws_credentials=two.account("training").credentials,
            cml_password=sim.cml_password,
            cml_ca_bundle=sim.cml_ca_bundle,
        ),
        two.clock,
        audit=AuditLog(tmp_path / "audit.jsonl"),
    )  # no operator given: each account's STS caller, looked up in the background
    try:
        for _ in range(200):
            if set(core.actions._operators) == {"training", "development"}:
                break
            await asyncio.sleep(0.05)
        names = dict(core.actions._operators)
        training = core.accounts.source("training").client("sts", two.region)  # type: ignore[union-attr]
        base = name_from_arn(training.get_caller_identity()["Arn"])
        assert names["training"] == base
        assert names["development"] == role_session_name(base or "")
        snapshot = await core.collector.collect()
        dev = next(d for d in snapshot.workers if d.aws_account == "development")
        event = await core.actions.toggle_idle_detection(dev.id, dev.is_idle_detection_enabled)
        assert event.toggled_by == names["development"]
        await core.actions.toggle_idle_detection(dev.id, event.is_enabled)  # put back
    finally:
        await core.close()
