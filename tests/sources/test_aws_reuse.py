"""An unchanged EC2 listing page reuses its last parse; any changed byte is parsed afresh."""

from __future__ import annotations

import botocore.session

from cmltui.sources.aws_reuse import ParseMemo, ReusingEC2Parser, split_request_id
from tests.sources.test_aws_ec2 import amis, launch, make_source

PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>{request_id}</requestId>
  <reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>
    <instanceId>i-1</instanceId><instanceType>m5zn.metal</instanceType>
    <instanceState><code>16</code><name>{state}</name></instanceState>
  </item></instancesSet></item></reservationSet>
</DescribeInstancesResponse>"""


def _response(request_id: str, state: str = "running") -> dict[str, object]:
    body = PAGE.format(request_id=request_id, state=state).encode()
    return {"body": body, "headers": {}, "status_code": 200}


def _shape() -> object:
    model = botocore.session.get_session().get_service_model("ec2")
    return model.operation_model("DescribeInstances").output_shape


def test_only_the_request_id_may_differ_for_a_page_to_be_reused():
    memo, shape = ParseMemo(), _shape()
    first = ReusingEC2Parser(memo).parse(_response("req-1"), shape)
    again = ReusingEC2Parser(memo).parse(_response("req-2"), shape)
    assert (memo.misses, memo.hits) == (1, 1)
    assert again["ResponseMetadata"]["RequestId"] == "req-2"  # this response's own id
    assert first["ResponseMetadata"]["RequestId"] == "req-1"
    assert again["Reservations"] == first["Reservations"]
    stopped = ReusingEC2Parser(memo).parse(_response("req-3", "stopped"), shape)
    assert memo.misses == 2
    assert stopped["Reservations"][0]["Instances"][0]["State"]["Name"] == "stopped"


def test_a_caller_changing_a_reused_page_changes_nothing_for_the_next():
    memo, shape = ParseMemo(), _shape()
    ReusingEC2Parser(memo).parse(_response("req-1"), shape)
    reused = ReusingEC2Parser(memo).parse(_response("req-2"), shape)
    reused["Reservations"][0]["Instances"][0]["State"]["Name"] = "changed by a caller"
    reused["Reservations"].clear()
    again = ReusingEC2Parser(memo).parse(_response("req-3"), shape)
    assert again["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"


def test_the_memo_is_bounded_by_entries_and_by_bytes():
    memo, shape = ParseMemo(entries=3, max_bytes=1000), _shape()
    for n in range(5):
        memo.put(shape, b"x" * 100 + str(n).encode(), {"n": n})
    assert memo.size == (3, 303)  # the oldest two are gone
    assert memo.get(shape, b"x" * 100 + b"0") is None
    assert memo.get(shape, b"x" * 100 + b"4") == {"n": 4}
    memo.put(shape, b"y" * 2000, {"big": True})  # alone over the budget: kept, the rest go
    assert memo.size == (1, 2000)
    assert memo.get(shape, b"y" * 2000) == {"big": True}


def test_split_request_id():
    assert split_request_id(b"<a><requestId>x-1</requestId><b/></a>") == ("x-1", b"<a><b/></a>")
    assert split_request_id(b"<a><b/></a>") == (None, b"<a><b/></a>")
    assert split_request_id(b"<a><requestId>no end") == (None, b"<a><requestId>no end")


async def test_listing_reuses_an_unchanged_page_and_sees_every_change(moto_url: str) -> None:
    source = make_source(moto_url)
    first_id, second_id = launch(source, amis(source)[0]["ImageId"], count=2)
    before = await source.list_region("us-east-1", status_checks=False)
    assert source.parse_memo is not None
    hits = source.parse_memo.hits
    same = await source.list_region("us-east-1", status_checks=False)
    assert source.parse_memo.hits == hits + 1
    assert same.instances == before.instances

    await source.create_tags("us-east-1", first_id, {"cmltui:idle-detection": "disabled"})
    tagged = await source.list_region("us-east-1", status_checks=False)
    assert source.parse_memo.hits == hits + 1  # a changed page is parsed afresh
    by_id = {i.instance_id: i for i in tagged.instances}
    assert by_id[first_id].tags["cmltui:idle-detection"] == "disabled"

    await source.stop_instance("us-east-1", second_id)
    stopped = await source.list_region("us-east-1", status_checks=False)
    assert {i.instance_id: i.state for i in stopped.instances}[second_id] == "stopped"
