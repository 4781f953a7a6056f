"""Plain, immutable views of EC2 responses, and the parsers that build them.

The rest of the core never touches boto3 dicts: it reads these dataclasses, so a change in what
EC2 returns is absorbed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cmltui.domain.times import parse_time

#: EC2 writes the time of the last user or service transition into StateTransitionReason, e.g.
#: "User initiated (2026-11-28 10:00:00 GMT)" or "Service initiated (... GMT)".
_TRANSITION_TIME = re.compile(r"\((\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})\s*(?:GMT|UTC)\)")


@dataclass(frozen=True)
class Ec2Instance:
    """One EC2 instance as DescribeInstances reports it."""

    instance_id: str
    region: str
    instance_type: str
    state: str
    state_transition_reason: str | None
    state_transition_time: datetime | None
    launch_time: datetime | None
    root_volume_attach_time: datetime | None
    image_id: str | None
    public_ip: str | None
    private_ip: str | None
    public_dns: str | None
    private_dns: str | None
    tags: dict[str, str] = field(default_factory=dict)
    monitoring_state: str | None = None
    availability_zone: str | None = None


@dataclass(frozen=True)
class InstanceStatus:
    """Status-check summaries from DescribeInstanceStatus ("ok", "impaired", ...)."""

    instance_id: str
    instance_status: str | None
    system_status: str | None
    state_name: str | None


@dataclass(frozen=True)
class AmiInfo:
    """What DescribeImages says about an AMI; all None when the AMI is no longer visible."""

    ami_id: str
    name: str | None
    description: str | None
    creation_date: datetime | None


def parse_transition_time(reason: str | None) -> datetime | None:
    """The UTC time in a StateTransitionReason, or None when it carries none."""
    if not reason:
        return None
    match = _TRANSITION_TIME.search(reason)
    if match is None:
        return None
    return parse_time(f"{match.group(1)}T{match.group(2)}")


def parse_aws_datetime(value: Any) -> datetime | None:
    """botocore gives datetimes for most fields but plain strings for AMI CreationDate."""
    return parse_time(value)


def _empty_to_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _root_attach_time(raw: Mapping[str, Any]) -> datetime | None:
    root = raw.get("RootDeviceName")
    for mapping in raw.get("BlockDeviceMappings", []):
        if mapping.get("DeviceName") == root:
            return parse_aws_datetime(mapping.get("Ebs", {}).get("AttachTime"))
    return None


#: The members of an EC2 `Instance` that `parse_instance` reads. EC2 cannot be asked for fewer
#: fields, but botocore can be told to build only these (`read_only_what_cmltui_reads`): a
#: listing then skips network interfaces, security groups, CPU and metadata options and the rest.
INSTANCE_MEMBERS = frozenset(
    {
        "InstanceId",
        "InstanceType",
        "State",
        "StateTransitionReason",
        "LaunchTime",
        "RootDeviceName",
        "BlockDeviceMappings",
        "ImageId",
        "PublicIpAddress",
        "PrivateIpAddress",
        "PublicDnsName",
        "PrivateDnsName",
        "Tags",
        "Monitoring",
        "Placement",
    }
)
#: The members of a `DescribeInstanceStatus` entry that `parse_status` reads.
STATUS_MEMBERS = frozenset({"InstanceId", "InstanceStatus", "SystemStatus", "InstanceState"})

#: (operation, path to a structure in its output, members kept). Lists are stepped through.
_READ_ONLY: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...] = (
    ("DescribeInstances", ("Reservations",), frozenset({"Instances"})),
    ("DescribeInstances", ("Reservations", "Instances"), INSTANCE_MEMBERS),
    ("DescribeInstanceStatus", ("InstanceStatuses",), STATUS_MEMBERS),
)


def read_only_what_cmltui_reads(service_model: Any) -> bool:
    """Make botocore build only the response members cmltui reads (per client, in place).

    botocore caches each structure's members on the shape object its parser walks; replacing
    that cache with the members we read means the rest of the XML is never turned into dicts.
    Returns False, changing nothing further, when botocore's model does not look as expected.
    """
    try:
        for operation, path, keep in _READ_ONLY:
            shape = service_model.operation_model(operation).output_shape
            for name in path:
                shape = shape.members[name]
                if shape.type_name == "list":
                    shape = shape.member
            kept = {name: member for name, member in shape.members.items() if name in keep}
            if set(kept) != keep:
                return False
            shape.__dict__["members"] = kept
            if shape.members is not kept:
                return False
    except (AttributeError, KeyError, TypeError):
        return False
    return True


def parse_instance(raw: Mapping[str, Any], region: str) -> Ec2Instance:
    """Build an `Ec2Instance` from one element of a Reservation's `Instances`."""
    reason = _empty_to_none(raw.get("StateTransitionReason"))
    return Ec2Instance(
        instance_id=raw["InstanceId"],
        region=region,
        instance_type=raw.get("InstanceType", ""),
        state=raw.get("State", {}).get("Name", ""),
        state_transition_reason=reason,
        state_transition_time=parse_transition_time(reason),
        launch_time=parse_aws_datetime(raw.get("LaunchTime")),
        root_volume_attach_time=_root_attach_time(raw),
        image_id=_empty_to_none(raw.get("ImageId")),
        public_ip=_empty_to_none(raw.get("PublicIpAddress")),
        private_ip=_empty_to_none(raw.get("PrivateIpAddress")),
        public_dns=_empty_to_none(raw.get("PublicDnsName")),
        private_dns=_empty_to_none(raw.get("PrivateDnsName")),
        tags={tag["Key"]: tag.get("Value", "") for tag in raw.get("Tags", [])},
        monitoring_state=raw.get("Monitoring", {}).get("State"),
        availability_zone=raw.get("Placement", {}).get("AvailabilityZone"),
    )


def parse_status(raw: Mapping[str, Any]) -> InstanceStatus:
    """Build an `InstanceStatus` from one element of `InstanceStatuses`."""
    return InstanceStatus(
        instance_id=raw["InstanceId"],
        instance_status=raw.get("InstanceStatus", {}).get("Status"),
        system_status=raw.get("SystemStatus", {}).get("Status"),
        state_name=raw.get("InstanceState", {}).get("Name"),
    )


def parse_image(raw: Mapping[str, Any]) -> AmiInfo:
    """Build an `AmiInfo` from one element of DescribeImages' `Images`."""
    return AmiInfo(
        ami_id=raw["ImageId"],
        name=_empty_to_none(raw.get("Name")),
        description=_empty_to_none(raw.get("Description")),
        creation_date=parse_aws_datetime(raw.get("CreationDate")),
    )
