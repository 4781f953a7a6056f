"""AwsSource EC2 listing, errors and actions against moto's server on 127.0.0.1.

moto never paginates and cannot produce some errors; those paths use botocore's Stubber on the
source's own client, so the code under test is unchanged.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from cmltui.sources.aws import AwsActionError, AwsSource, RegionListing
from cmltui.sources.aws_ec2 import (
    INSTANCE_MEMBERS,
    STATUS_MEMBERS,
    parse_instance,
    parse_status,
    parse_transition_time,
)

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "secret-never-shown"}
WORKER_TAGS = [{"Key": "cml-worker", "Value": "yes"}]


def make_source(url: str, regions: list[str] | None = None, **kwargs: Any) -> AwsSource:
    return AwsSource(
        regions=regions or ["us-east-1"], endpoint_url=url, credentials=CREDS, **kwargs
    )


#: Two of the AMIs moto ships in every region (asking moto for all of them costs ~0.8 s).
MOTO_AMIS = ["ami-03cf127a", "ami-12c6146b"]


def amis(source: AwsSource, region: str = "us-east-1") -> list[dict[str, Any]]:
    images = source.client("ec2", region).describe_images(ImageIds=MOTO_AMIS)["Images"]
    return sorted(images, key=lambda image: MOTO_AMIS.index(image["ImageId"]))


def launch(
    source: AwsSource,
    image_id: str,
    count: int = 1,
    *,
    region: str = "us-east-1",
    instance_type: str = "m5zn.metal",
    tags: list[dict[str, str]] | None = None,
) -> list[str]:
    response = source.client("ec2", region).run_instances(
        ImageId=image_id,
        MinCount=count,
        MaxCount=count,
        InstanceType=instance_type,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": WORKER_TAGS if tags is None else tags}
        ],
    )
    return [i["InstanceId"] for i in response["Instances"]]


def only(listings: list[RegionListing], region: str) -> RegionListing:
    (listing,) = [x for x in listings if x.region == region]
    return listing


async def test_discovers_tagged_instances_with_details(moto_url: str) -> None:
    source = make_source(moto_url)
    ami_a, ami_b = amis(source)
    workers = launch(
        source, ami_a["ImageId"], 2, tags=[*WORKER_TAGS, {"Key": "Name", "Value": "w1"}]
    )
    other = launch(source, ami_b["ImageId"], instance_type="c5.metal")
    untagged = launch(source, ami_a["ImageId"], tags=[{"Key": "Name", "Value": "not-cml"}])

    listing = await source.list_region("us-east-1")

    assert listing.error is None
    by_id = {i.instance_id: i for i in listing.instances}
    assert set(by_id) == {*workers, *other}
    assert untagged[0] not in by_id
    first = by_id[workers[0]]
    assert first.tags == {"cml-worker": "yes", "Name": "w1"}
    assert first.instance_type == "m5zn.metal"
    assert by_id[other[0]].instance_type == "c5.metal"
    assert first.state == "running"
    assert first.public_ip and first.private_ip and first.public_dns and first.private_dns
    assert first.region == "us-east-1"
    assert first.monitoring_state == "disabled"
    assert first.root_volume_attach_time is not None
    assert first.root_volume_attach_time.tzinfo is not None
    assert first.launch_time is not None
    assert abs((first.root_volume_attach_time - first.launch_time).total_seconds()) < 5
    assert first.image_id == ami_a["ImageId"]
    info = listing.amis[ami_a["ImageId"]]
    assert info.name == ami_a["Name"]
    assert info.description == ami_a.get("Description")
    assert info.creation_date is not None
    assert set(listing.amis) == {ami_a["ImageId"], ami_b["ImageId"]}
    assert set(listing.statuses) == set(by_id)
    assert listing.statuses[workers[0]].instance_status == "ok"


async def test_custom_filters_replace_the_default(moto_url: str) -> None:
    source = make_source(moto_url)
    ami_a, ami_b = amis(source)
    launch(source, ami_a["ImageId"])
    untagged_b = launch(source, ami_b["ImageId"], tags=[{"Key": "Name", "Value": "x"}])
    by_ami = make_source(moto_url, filters=[{"Name": "image-id", "Values": [ami_b["ImageId"]]}])

    listing = await by_ami.list_region("us-east-1")

    assert [i.instance_id for i in listing.instances] == untagged_b


async def test_call_budget_per_cycle_and_ami_cache(moto_url: str) -> None:
    source = make_source(moto_url)
    ami_a, ami_b = amis(source)
    launch(source, ami_a["ImageId"], 3)
    source.calls.reset()

    def cycle_counts() -> dict[str, int]:
        return {
            op: source.calls.count(region="us-east-1", service="ec2", operation=op)
            for op in ("DescribeInstances", "DescribeInstanceStatus", "DescribeImages")
        }

    await source.list_region("us-east-1")
    assert cycle_counts() == {
        "DescribeInstances": 1,
        "DescribeInstanceStatus": 1,
        "DescribeImages": 1,
    }
    source.calls.reset()
    second = await source.list_region("us-east-1")
    assert cycle_counts() == {
        "DescribeInstances": 1,
        "DescribeInstanceStatus": 1,
        "DescribeImages": 0,
    }
    assert second.amis[ami_a["ImageId"]].name == ami_a["Name"]

    launch(source, ami_b["ImageId"])
    source.calls.reset()
    third = await source.list_region("us-east-1")
    assert cycle_counts()["DescribeImages"] == 1
    assert set(third.amis) == {ami_a["ImageId"], ami_b["ImageId"]}
    assert source.calls.count() == 3


async def test_status_includes_stopped_instances_and_transition_time(moto_url: str) -> None:
    source = make_source(moto_url)
    (ami, _) = amis(source)
    running, stopped = launch(source, ami["ImageId"], 2)
    assert await source.stop_instance("us-east-1", stopped) == "stopping"

    listing = await source.list_region("us-east-1")

    by_id = {i.instance_id: i for i in listing.instances}
    assert by_id[stopped].state == "stopped"
    assert listing.statuses[stopped].state_name == "stopped"
    assert listing.statuses[stopped].instance_status == "not-applicable"
    assert listing.statuses[running].state_name == "running"
    assert by_id[stopped].state_transition_reason
    moved = by_id[stopped].state_transition_time
    assert moved is not None and moved.tzinfo is not None
    assert abs((datetime.now(UTC) - moved).total_seconds()) < 120
    assert by_id[running].state_transition_time is None


async def test_regions_are_listed_in_parallel(moto_url: str) -> None:
    source = make_source(moto_url, regions=["us-east-1", "eu-west-1"])
    east = launch(source, amis(source)[0]["ImageId"])
    west = launch(source, amis(source, "eu-west-1")[0]["ImageId"], region="eu-west-1")
    # Both regions' first DescribeInstances must be in flight at once, or the barrier breaks.
    barrier = threading.Barrier(2, timeout=5)
    seen: set[str] = set()

    def rendezvous(region: str, **_: Any) -> None:
        if region not in seen:
            seen.add(region)
            barrier.wait()

    for region in source.regions:
        source.client("ec2", region).meta.events.register(
            "before-send.ec2.DescribeInstances", lambda region=region, **kw: rendezvous(region)
        )

    listings = await source.list_fleet()

    assert [x.region for x in listings] == ["us-east-1", "eu-west-1"]
    assert all(x.error is None for x in listings), [x.error for x in listings]
    assert [i.instance_id for i in only(listings, "us-east-1").instances] == east
    assert [i.instance_id for i in only(listings, "eu-west-1").instances] == west
    assert only(listings, "eu-west-1").instances[0].region == "eu-west-1"


async def test_access_denied_region_does_not_hide_the_other(moto_url: str) -> None:
    source = make_source(moto_url, regions=["us-east-1", "eu-west-1"])
    east = launch(source, amis(source)[0]["ImageId"])
    with Stubber(source.client("ec2", "eu-west-1")) as stub:
        stub.add_client_error(
            "describe_instances", "UnauthorizedOperation", "You are not authorized.", 403
        )
        listings = await source.list_fleet()

    assert only(listings, "eu-west-1").error == "eu-west-1: access denied (UnauthorizedOperation)"
    assert only(listings, "eu-west-1").instances == []
    good = only(listings, "us-east-1")
    assert good.error is None
    assert [i.instance_id for i in good.instances] == east


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_unreachable_endpoint_is_a_region_error(moto_url: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    source = make_source(url, regions=["us-east-1", "eu-west-1"], max_attempts=1)

    listings = await source.list_fleet()

    assert [x.error for x in listings] == [
        f"us-east-1: cannot reach endpoint {url}/",
        f"eu-west-1: cannot reach endpoint {url}/",
    ]


async def test_no_credentials_is_a_region_error(moto_url: str) -> None:
    source = AwsSource(regions=["us-east-1"], endpoint_url=moto_url)

    (listing,) = await source.list_fleet()

    assert listing.error == "us-east-1: no AWS credentials found"


async def test_missing_profile_is_a_region_error(moto_url: str) -> None:
    source = AwsSource(regions=["us-east-1"], endpoint_url=moto_url, profile="nope")

    (listing,) = await source.list_fleet()

    assert listing.error is not None
    assert listing.error.startswith("us-east-1: AWS profile not found")


async def test_aws_endpoint_url_environment_is_honoured(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    launched = launch(make_source(moto_url), amis(make_source(moto_url))[0]["ImageId"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    source = AwsSource(regions=["us-east-1"], credentials=CREDS)

    listing = await source.list_region("us-east-1")

    assert listing.error is None
    assert [i.instance_id for i in listing.instances] == launched
    assert source.client("ec2", "us-east-1").meta.endpoint_url == moto_url


def _stub_instance(instance_id: str) -> dict[str, Any]:
    return {
        "InstanceId": instance_id,
        "InstanceType": "c5.metal",
        "ImageId": "ami-0123456789abcdef0",
        "State": {"Code": 16, "Name": "running"},
        "RootDeviceName": "/dev/sda1",
        "BlockDeviceMappings": [
            {"DeviceName": "/dev/sdb", "Ebs": {"AttachTime": datetime(2026, 1, 2, tzinfo=UTC)}},
            {"DeviceName": "/dev/sda1", "Ebs": {"AttachTime": datetime(2025, 5, 6, tzinfo=UTC)}},
        ],
        "StateTransitionReason": "User initiated (2026-11-28 10:00:00 GMT)",
        "Tags": [{"Key": "cml-worker", "Value": ""}],
    }


def _stub_page(*instance_ids: str) -> dict[str, Any]:
    return {"Reservations": [{"Instances": [_stub_instance(i) for i in instance_ids]}]}


async def test_describe_instances_follows_every_page(moto_url: str) -> None:
    source = make_source(moto_url)
    ec2 = source.client("ec2", "us-east-1")
    filters = [{"Name": "tag-key", "Values": ["cml-worker"]}]
    with Stubber(ec2) as stub:
        stub.add_response(
            "describe_instances",
            {
                "Reservations": [{"Instances": [_stub_instance("i-1"), _stub_instance("i-2")]}],
                "NextToken": "page-2",
            },
            {"Filters": filters, "MaxResults": 1000},
        )
        stub.add_response(
            "describe_instances",
            {"Reservations": [{"Instances": [_stub_instance("i-3")]}]},
            {"Filters": filters, "MaxResults": 1000, "NextToken": "page-2"},
        )
        stub.add_response(
            "describe_instance_status",
            {
                "InstanceStatuses": [
                    {
                        "InstanceId": i,
                        "InstanceState": {"Code": 16, "Name": "running"},
                        "InstanceStatus": {"Status": "ok"},
                        "SystemStatus": {"Status": "impaired"},
                    }
                    for i in ("i-1", "i-2", "i-3", "i-not-a-worker")
                ]
            },
            {"IncludeAllInstances": True, "MaxResults": 1000},
        )
        stub.add_response(
            "describe_images",
            {"Images": [{"ImageId": "ami-0123456789abcdef0", "Name": "cml-2.9"}]},
            {
                "Filters": [{"Name": "image-id", "Values": ["ami-0123456789abcdef0"]}],
                "IncludeDeprecated": True,
            },
        )
        listing = await source.list_region("us-east-1")
        stub.assert_no_pending_responses()

    assert listing.error is None, listing.error
    assert [i.instance_id for i in listing.instances] == ["i-1", "i-2", "i-3"]
    assert source.calls.count(operation="DescribeInstances") == 2
    assert set(listing.statuses) == {"i-1", "i-2", "i-3"}
    assert listing.statuses["i-3"].system_status == "impaired"
    assert listing.amis["ami-0123456789abcdef0"].name == "cml-2.9"
    first = listing.instances[0]
    assert first.root_volume_attach_time == datetime(2025, 5, 6, tzinfo=UTC)
    assert first.state_transition_time == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert first.tags == {"cml-worker": ""}


async def test_vanished_ami_is_cached_as_empty(moto_url: str) -> None:
    source = make_source(moto_url)
    ec2 = source.client("ec2", "us-east-1")
    with Stubber(ec2) as stub:
        for cycle in range(2):
            stub.add_response("describe_instances", _stub_page("i-1"))
            stub.add_response("describe_instance_status", {"InstanceStatuses": []})
            if cycle == 0:
                stub.add_response("describe_images", {"Images": []})
            await source.list_region("us-east-1")
        stub.assert_no_pending_responses()

    assert source.calls.count(operation="DescribeImages") == 1


async def test_status_failure_is_a_warning_not_an_error(moto_url: str) -> None:
    source = make_source(moto_url)
    with Stubber(source.client("ec2", "us-east-1")) as stub:
        stub.add_response("describe_instances", _stub_page("i-1"))
        stub.add_client_error("describe_instance_status", "UnauthorizedOperation", "no", 403)
        stub.add_response("describe_images", {"Images": []})
        listing = await source.list_region("us-east-1")

    assert listing.error is None
    assert [i.instance_id for i in listing.instances] == ["i-1"]
    assert listing.statuses == {}
    assert listing.warnings == [
        "us-east-1: status checks unavailable: access denied (UnauthorizedOperation)"
    ]


async def test_actions_tag_stop_and_start(moto_url: str) -> None:
    source = make_source(moto_url)
    (instance_id,) = launch(source, amis(source)[0]["ImageId"])

    await source.create_tags("us-east-1", instance_id, {"cmltui:idle-detection": "disabled"})
    assert await source.stop_instance("us-east-1", instance_id) == "stopping"
    listing = await source.list_region("us-east-1")
    assert listing.instances[0].tags["cmltui:idle-detection"] == "disabled"
    assert listing.instances[0].state == "stopped"
    assert await source.start_instance("us-east-1", instance_id) == "pending"
    assert (await source.list_region("us-east-1")).instances[0].state == "running"


async def test_action_errors_carry_the_aws_code(moto_url: str) -> None:
    source = make_source(moto_url)
    with Stubber(source.client("ec2", "us-east-1")) as stub:
        stub.add_client_error(
            "stop_instances",
            "IncorrectInstanceState",
            "The instance 'i-1' is not in a state from which it can be stopped.",
            400,
        )
        with pytest.raises(AwsActionError) as caught:
            await source.stop_instance("us-east-1", "i-1")

    assert caught.value.code == "IncorrectInstanceState"
    assert "StopInstances i-1 (us-east-1)" in str(caught.value)
    assert "not in a state" in str(caught.value)

    with pytest.raises(AwsActionError) as missing:
        await source.start_instance("us-east-1", "i-0000000000000dead")
    assert missing.value.code == "InvalidInstanceID.NotFound"


async def test_unreachable_action_is_an_action_error(moto_url: str) -> None:
    source = make_source(f"http://127.0.0.1:{closed_port()}", max_attempts=1)

    with pytest.raises(AwsActionError) as caught:
        await source.create_tags("us-east-1", "i-1", {"a": "b"})

    assert caught.value.code == "EndpointUnreachable"
    assert "cannot reach endpoint" in str(caught.value)


def test_clients_are_long_lived_and_configured(moto_url: str) -> None:
    source = make_source(moto_url, retry_mode="adaptive", max_attempts=7)

    ec2 = source.client("ec2", "us-east-1")

    assert source.client("ec2", "us-east-1") is ec2
    assert source.client("ec2", "eu-west-1") is not ec2
    assert ec2.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}
    assert ec2.meta.endpoint_url == moto_url
    assert "secret-never-shown" not in repr(source)
    assert "testing" not in repr(source)


def test_rejects_a_period_that_is_not_a_multiple_of_60() -> None:
    with pytest.raises(ValueError, match="multiple of 60"):
        AwsSource(regions=["us-east-1"], cloudwatch_period=90)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("User initiated (2026-11-28 10:00:00 GMT)", datetime(2026, 11, 28, 10, tzinfo=UTC)),
        ("Service initiated (2025-01-02 03:04:05 GMT)", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("User initiated (2026-11-28 21:06:14 UTC)", datetime(2026, 11, 28, 21, 6, 14, tzinfo=UTC)),
        ("User initiated", None),
        ("", None),
        (None, None),
        ("User initiated (2026-13-45 99:00:00 GMT)", None),
    ],
)
def test_parse_transition_time(reason: str | None, expected: datetime | None) -> None:
    assert parse_transition_time(reason) == expected


class _Recording(dict):  # type: ignore[type-arg]
    """A response element that records which members are read."""

    def __init__(self, data: dict[str, Any], seen: set[str]) -> None:
        super().__init__(data)
        self.seen = seen

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.seen.add(key)
        return super().__getitem__(key)


async def test_the_listing_builds_only_the_members_the_parsers_read(moto_url: str) -> None:
    source = make_source(moto_url)
    (ami, _) = amis(source)
    (instance_id,) = launch(
        source, ami["ImageId"], tags=[*WORKER_TAGS, {"Key": "Name", "Value": "w"}]
    )
    ec2 = source.client("ec2", "us-east-1")
    raw = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    # botocore built only the members cmltui reads (EC2 itself cannot be asked for fewer)
    assert set(raw) <= INSTANCE_MEMBERS and "NetworkInterfaces" not in raw
    assert raw["Tags"] and raw["BlockDeviceMappings"][0]["Ebs"]["AttachTime"]
    # ... and every member the parsers read is among them
    seen: set[str] = set()
    parse_instance(_Recording(raw, seen), "us-east-1")
    assert seen <= INSTANCE_MEMBERS, seen - INSTANCE_MEMBERS
    status = ec2.describe_instance_status(InstanceIds=[instance_id])["InstanceStatuses"][0]
    assert set(status) <= STATUS_MEMBERS
    seen = set()
    parse_status(_Recording(status, seen))
    assert seen <= STATUS_MEMBERS, seen - STATUS_MEMBERS
    listing = await source.list_region("us-east-1")
    (found,) = [i for i in listing.instances if i.instance_id == instance_id]
    assert found.tags["Name"] == "w" and found.root_volume_attach_time is not None
    assert listing.statuses_read and listing.statuses[instance_id].state_name == "running"


async def test_status_checks_can_be_skipped_and_read_on_their_own(moto_url: str) -> None:
    source = make_source(moto_url)
    (ami, _) = amis(source)
    (instance_id,) = launch(source, ami["ImageId"])
    source.calls.reset()
    listing = await source.list_region("us-east-1", status_checks=False)
    assert not listing.statuses_read and listing.statuses == {}
    assert source.calls.count(operation="DescribeInstanceStatus") == 0
    statuses = await source.status_checks("us-east-1", [instance_id])
    assert set(statuses) == {instance_id}
    assert source.calls.count(operation="DescribeInstanceStatus") == 1
