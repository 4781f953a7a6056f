"""The real core pointed at a simulated fleet (moto + CML over HTTPS on 127.0.0.1)."""

from __future__ import annotations

from datetime import UTC, datetime

from cmltui.audit import AuditLog
from cmltui.backends.direct.demo import demo_config, simulator_endpoints
from cmltui.backends.direct.wiring import Core, build_core
from cmltui.config import Config
from cmltui.sim import SimulatedFleet

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_core(fleet: SimulatedFleet, tmp_path, **config_updates) -> Core:
    data = demo_config(Config(), fleet.region).model_dump()
    for dotted, value in config_updates.items():
        node = data
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node[part]
        node[leaf] = value
    config = Config.model_validate(data)
    return build_core(
        config,
        simulator_endpoints(fleet),
        fleet.clock,
        audit=AuditLog(tmp_path / "audit.jsonl"),
        operator="tester",
    )


def described_reply(instance_id: str, state: str) -> dict[str, object]:
    """A DescribeInstances reply for one instance, for a Stubber: the state an action re-reads
    right before it sends a stop or start."""
    return {
        "Reservations": [
            {"Instances": [{"InstanceId": instance_id, "State": {"Code": 16, "Name": state}}]}
        ]
    }
