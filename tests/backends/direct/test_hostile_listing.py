"""A worker tagged with a character XML cannot carry (moto sends it raw, and the page then is
not well-formed XML) no longer hides its region: the collector lists the whole fleet, and the
tag shows as data."""

from __future__ import annotations

import boto3
import pytest

from tests.backends.direct.sim_core import make_core
from tests.worker_lookup import by_id

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("value", ["cml\x1b]0;pwned\x07-06", "cml\x00-06"], ids=["esc", "nul"])
async def test_one_create_tags_cannot_hide_a_region(fleet, tmp_path, value):
    ec2 = boto3.client(
        "ec2",
        region_name=fleet.region,
        endpoint_url=fleet.aws_endpoint_url,
        **fleet.aws_credentials,
    )
    target = fleet.worker("cml-stopped-06").instance_id
    ec2.create_tags(Resources=[target], Tags=[{"Key": "Name", "Value": value}])
    core = make_core(fleet, tmp_path)
    try:
        snapshot = await core.collector.collect()
    finally:
        await core.close()
        # A plain boto3 listing (the shared fleet's own book-keeping) cannot read the tag.
        ec2.create_tags(Resources=[target], Tags=[{"Key": "Name", "Value": "cml-stopped-06"}])
    assert snapshot.errors == ()
    workers = by_id(snapshot)
    assert set(workers) == {w.instance_id for w in fleet.workers}
    shown = workers[target].name
    assert shown.startswith("cml") and shown.endswith("-06")
    assert not any(ord(ch) < 0x20 for ch in shown)
    assert "ec2" not in workers[target].errors
