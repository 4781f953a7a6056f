"""Hostile tags and slow workers against the simulated fleet (moto + CML over HTTPS).

- A `cmltui:cml-url` tag naming a host that is not the instance's own (nor allowed) gets no
  password; a plain http:// URL gets none either unless the config names the host.
- One slow worker never holds back the others' snapshot: at the per-worker deadline the
  snapshot goes out, and the slow worker keeps its last values, marked stale.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from cmltui.sim import Fault
from tests.backends.direct.sim_core import make_core
from tests.worker_lookup import by_id, by_name

pytestmark = pytest.mark.asyncio(loop_scope="module")


class PasswordTrap:
    """A plain-http CML login endpoint on 127.0.0.1 that records what it is sent."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.requests: list[str] = []
        self.port = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path)
        if request.path.endswith("/authenticate"):
            self.bodies.append(await request.text())
            return web.json_response("hdr.payload.sig")
        if request.path.endswith("/system_information"):
            return web.json_response({"version": "2.9.0", "ready": True})
        return web.json_response({"description": "not found"}, status=404)


@pytest_asyncio.fixture(loop_scope="module")
async def trap() -> AsyncIterator[PasswordTrap]:
    found = PasswordTrap()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", found.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    found.port = runner.addresses[0][1]
    try:
        yield found
    finally:
        await runner.cleanup()


def tagged_worker(core, region: str, name: str, url: str) -> str:
    ec2 = core.aws.client("ec2", region)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="c5.metal",
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Name", "Value": name},
                    {"Key": "cml-worker", "Value": "1"},
                    {"Key": "cmltui:cml-url", "Value": url},
                ],
            }
        ],
    )["Instances"][0]["InstanceId"]


@pytest.mark.parametrize(
    ("host", "updates", "refused"),
    [
        # localhost is not the instance's address and not in allowed_hosts (only 127.0.0.1)
        ("localhost", {"cml__allow_http_hosts": ["localhost"]}, "URL tag not trusted"),
        # a trusted host, but plain http without the per-host opt-in
        ("127.0.0.1", {}, "http:// refused"),
        # the control: both opt-ins given, so the password does go (the trap can see it)
        (
            "localhost",
            {
                "cml__allowed_hosts": ["127.0.0.1", "localhost"],
                "cml__allow_http_hosts": ["localhost"],
            },
            None,
        ),
    ],
    ids=["untrusted-host", "http-refused", "both-opted-in"],
)
async def test_url_tag_gets_the_password_only_where_vouched_for(
    fleet, tmp_path, trap, host, updates, refused
):
    core = make_core(fleet, tmp_path, **updates)
    trap.bodies.clear()
    trap.requests.clear()
    # Each case names its worker apart and finds it by instance id: a terminated instance stays
    # listed (as on EC2, for about an hour), so an earlier case's worker is still there.
    name = f"cml-tagged-{host}-{len(updates)}"
    made = tagged_worker(core, fleet.region, name, f"http://{host}:{trap.port}")
    try:
        snapshot = await core.collector.collect()
    finally:
        core.aws.client("ec2", fleet.region).terminate_instances(InstanceIds=[made])
        await core.close()
    tagged = by_id(snapshot)[made]
    assert tagged.name == name
    workers = by_name(snapshot)
    if refused is None:
        assert trap.bodies and fleet.cml_password in trap.bodies[0]
        return
    assert trap.bodies == [] and trap.requests == [], "an untrusted URL was contacted"
    assert refused in tagged.errors["cml"]
    # the rest of the fleet is untouched
    assert workers["cml-busy-01"].service_status == "available"


async def test_a_slow_worker_does_not_hold_back_the_snapshot(fleet, tmp_path):
    core = make_core(fleet, tmp_path, cml__worker_deadline=1.0)
    try:
        first = by_name(await core.collector.collect())
        assert first["cml-busy-01"].cpu_utilization is not None
        fleet.set_fault("cml-busy-01", Fault.SLOW, delay_s=8.0)
        fleet.clock.advance(30)
        began = time.monotonic()
        snap = await core.collector.collect()
        took = time.monotonic() - began
    finally:
        fleet.set_fault("cml-busy-01", None)
        await core.close()
    workers = by_name(snap)
    # Far less than one slow answer (8 s): the snapshot left at the 1 s deadline.
    assert took < 6.0, took
    slow = workers["cml-busy-01"]
    assert "deadline" in slow.errors["cml"]
    # The late worker keeps its last values, marked stale with their age.
    assert slow.cpu_utilization == first["cml-busy-01"].cpu_utilization
    assert slow.cml_stale_seconds == 30
    # Every other worker that answered before is fresh in this very snapshot.
    others = [n for n, d in first.items() if d.service_status == "available" and n != slow.name]
    assert len(others) >= 3
    for name in others:
        assert workers[name].cml_last_synced_at == snap.collected_at, name
        assert "cml" not in workers[name].errors, name
