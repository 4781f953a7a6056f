"""The resolver's verdict on a worker's URL travels in its DTO, so `o` and the copy menu obey
the same rule as the password (direct backend on the simulated fleet)."""

from __future__ import annotations

import boto3
import pytest

from cmltui.audit import AuditLog
from cmltui.backends.direct.demo import demo_config, simulator_endpoints
from cmltui.backends.direct.wiring import build_core
from cmltui.config import Config
from cmltui.domain.tags import CML_URL_TAG
from cmltui.tui.reach import copy_choices, trusted_url

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://evil.example/", "URL tag not trusted: host evil.example"),
        ("--remote-debugging-port=9222", "URL tag not trusted: not an http(s) URL"),
        ("javascript:alert(1)", "URL tag not trusted: not an http(s) URL"),
    ],
)
async def test_an_untrusted_url_tag_is_refused_in_the_dto(fleet, tmp_path, url, why):
    worker = fleet.worker("cml-busy-01")
    ec2 = boto3.client(
        "ec2",
        region_name=fleet.region,
        endpoint_url=fleet.aws_endpoint_url,
        **fleet.aws_credentials,
    )
    ec2.create_tags(Resources=[worker.instance_id], Tags=[{"Key": CML_URL_TAG, "Value": url}])
    config = demo_config(Config(), fleet.region)
    core = build_core(
        config, simulator_endpoints(fleet), fleet.clock, audit=AuditLog(tmp_path / "a.jsonl")
    )
    try:
        snapshot = await core.collector.collect()
    finally:
        await core.close()
    dtos = {dto.name: dto for dto in snapshot.workers}
    busy = dtos["cml-busy-01"]
    assert busy.https_endpoint == url.rstrip("/")  # data, as tagged ...
    assert busy.https_endpoint_refusal is not None and busy.https_endpoint_refusal.startswith(why)
    assert busy.errors["url"].startswith(why)
    assert trusted_url(busy) is None  # ... never opened nor offered
    assert "CML URL" not in dict(copy_choices(busy))
    # The other workers' tags point at the simulator, which `cml.allowed_hosts` vouches for.
    other = next(d for d in snapshot.workers if d.status.value == "running" and d is not busy)
    assert other.https_endpoint_refusal is None and trusted_url(other) == other.https_endpoint
