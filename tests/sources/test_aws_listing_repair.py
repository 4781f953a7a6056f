"""A listing holding characters XML forbids (moto sends a tag's ESC or NUL raw) is read with
those characters made visible, so one CreateTags cannot hide a region; an answer that is not
XML at all still fails only its region, in one line."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cmltui.sources.aws import AwsSource
from cmltui.sources.aws_reuse import xml_made_parseable

HOSTILE = {
    "esc": "cml\x1b]0;pwned\x07-esc",
    "nul": "cml\x00-nul",
    "c0": "cml\x01\x02\x1f-c0",
}


def source(endpoint: str) -> AwsSource:
    return AwsSource(
        regions=["us-east-1"],
        endpoint_url=endpoint,
        credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
        max_attempts=1,
    )


def run_workers(aws: AwsSource, count: int) -> list[str]:
    ec2 = aws.client("ec2", "us-east-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    made = ec2.run_instances(
        ImageId=image,
        MinCount=count,
        MaxCount=count,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "cml-worker", "Value": "1"}]}
        ],
    )
    ids = [i["InstanceId"] for i in made["Instances"]]
    for index, instance_id in enumerate(ids):
        ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "Name", "Value": f"w{index}"}])
    return ids


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_a_tag_xml_cannot_carry_does_not_hide_the_region(moto_url, kind):
    aws = source(moto_url)
    ids = run_workers(aws, 4)
    ec2 = aws.client("ec2", "us-east-1")
    ec2.create_tags(Resources=[ids[1]], Tags=[{"Key": "Name", "Value": HOSTILE[kind]}])
    ec2.create_tags(Resources=[ids[2]], Tags=[{"Key": "owner", "Value": HOSTILE[kind]}])

    listing = await aws.list_region("us-east-1")
    assert listing.error is None
    names = {i.instance_id: i.tags["Name"] for i in listing.instances}
    assert set(names) == set(ids)  # every instance of the region is listed
    assert names[ids[0]] == "w0" and names[ids[3]] == "w3"  # the others exactly as tagged
    shown = names[ids[1]]
    assert not any(ord(ch) < 0x20 for ch in shown)  # nothing XML forbids gets through
    expected = "".join(chr(0x2400 + ord(ch)) if ord(ch) < 0x20 else ch for ch in HOSTILE[kind])
    assert shown == expected  # each forbidden character shown as its control picture
    assert listing.instances[0].state == "running"

    # The next cycle's unchanged page is answered from the memo: no second failed parse.
    memo = aws.parse_memo
    assert memo is not None
    hits = memo.hits
    again = await aws.list_region("us-east-1")
    assert {i.instance_id for i in again.instances} == set(ids)
    assert memo.hits > hits


async def test_status_checks_and_amis_of_that_region_still_read(moto_url):
    aws = source(moto_url)
    ids = run_workers(aws, 2)
    ec2 = aws.client("ec2", "us-east-1")
    ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "Name", "Value": HOSTILE["esc"]}])
    listing = await aws.list_region("us-east-1", status_checks=True)
    assert listing.error is None and listing.warnings == []
    assert set(listing.statuses) == set(ids)
    assert all(listing.amis[i.image_id].name for i in listing.instances if i.image_id)


HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://x/">'
TAIL = b"</DescribeInstancesResponse>"


def test_the_repair_changes_only_characters_xml_forbids():
    assert xml_made_parseable(HEAD + b"<a>plain \xc3\xa9 text</a>" + TAIL) is None
    body = b"<a b='x\x1b'>\x00&#27;&#x1b;&#65;&#x10FFFF;&#xD800;\xff\t\n\r</a>"
    repaired = xml_made_parseable(HEAD + body + TAIL)
    assert repaired is not None
    element = ET.fromstring(repaired).find("{http://x/}a")
    assert element is not None and element.get("b") == "x\u241b"
    assert element.text == "\u2400\u241b\u241bA\U0010ffff\ufffd\ufffd\t\n\n"
    # markup is never made: '<' or '&' references stay what they were
    mended = xml_made_parseable(HEAD + b"<a>&#60;&amp;\x1b</a>" + TAIL)
    assert mended == HEAD + "<a>&#60;&amp;\u241b</a>".encode() + TAIL


def test_what_is_not_an_ec2_answer_is_never_mended():
    """A proxy's HTML page with a stray ESC stays an error: mended, it would read as a region
    with no instances and make every worker of it vanish."""
    assert xml_made_parseable(b"<html>\x1b]0;pwned\x07</html>") is None
    assert xml_made_parseable(b"\x1b" + HEAD + TAIL) is None
