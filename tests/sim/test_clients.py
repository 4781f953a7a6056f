"""Real clients against the fleet: the official virl2-client, and boto3 against moto."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import boto3
import pytest

from cmltui.sim import SimulatedFleet

pytestmark = pytest.mark.asyncio(loop_scope="module")
EXPECTED = [
    "cml-busy-01",
    "cml-labs-02",
    "cml-idle-03",
    "cml-snooze-04",
    "cml-nearpause-05",
    "cml-stopped-06",
    "cml-down-07",
    "cml-degraded-08",
    "cml-noagent-09",
    "cml-eval-10",
    "cml-expired-11",
    "cml-unreg-12",
]


def _virl2_read(url: str, username: str, password: str, ca_file: str) -> tuple[int, dict, dict]:
    from virl2_client import ClientLibrary

    client = ClientLibrary(url, username, password, ssl_verify=ca_file, raise_for_auth_failure=True)
    labs = client.all_labs(show_all=True)
    titles = {lab.title for lab in labs}
    assert all(titles)
    return len(labs), client.get_system_stats(), client.get_system_health()


@pytest.mark.filterwarnings("ignore:`verify=<str>` is deprecated:DeprecationWarning")
async def test_virl2_client_logs_in_and_reads(fleet: SimulatedFleet) -> None:
    pytest.importorskip("virl2_client")
    w = fleet.worker("cml-labs-02")
    before = w.login_count
    count, stats, health = await asyncio.to_thread(
        _virl2_read, w.cml_url, fleet.cml_username, fleet.cml_password, str(fleet.ca_file)
    )
    assert count == 15
    assert stats["all"]["cpu"]["count"] > 0 and len(stats["computes"]) >= 1
    assert health["valid"] is True
    assert w.login_count == before + 1


def _ec2(fleet: SimulatedFleet):  # type: ignore[no-untyped-def]
    return boto3.client(
        "ec2",
        endpoint_url=fleet.aws_endpoint_url,
        region_name=fleet.region,
        **fleet.aws_credentials,
    )


async def test_boto3_sees_the_fleet(fleet: SimulatedFleet) -> None:
    ec2 = _ec2(fleet)
    pages = ec2.describe_instances(Filters=[{"Name": "tag-key", "Values": ["cml-worker"]}])
    instances = [i for r in pages["Reservations"] for i in r["Instances"]]
    tags = {i["InstanceId"]: {t["Key"]: t["Value"] for t in i["Tags"]} for i in instances}
    by_name = {t["Name"]: (iid, t) for iid, t in tags.items()}
    assert sorted(by_name) == sorted(EXPECTED)
    for name, (iid, t) in by_name.items():
        w = fleet.worker(name)
        assert w.instance_id == iid and t["cmltui:cml-url"] == w.cml_url
        assert ("cmltui:idle-detection" in t) == (name == "cml-labs-02")
    snooze = by_name["cml-snooze-04"][1]
    assert snooze["cmltui:manual-resume-count"] == "1"
    assert snooze["cmltui:pause-reason"] == "idle_timeout"
    resumed = fleet.t0 - timedelta(minutes=20)  # type: ignore[operator]
    assert snooze["cmltui:last-resumed-at"] == resumed.isoformat()
    idle = next(i for i in instances if i["InstanceId"] == fleet.worker("cml-idle-03").instance_id)
    assert fleet.t0 - idle["LaunchTime"] > timedelta(days=2)  # type: ignore[operator]
    assert idle["InstanceType"].endswith("metal")
    images = ec2.describe_images(ImageIds=sorted({i["ImageId"] for i in instances}))["Images"]
    assert images and all(img["Name"].startswith("cml-2.9.") for img in images)
    status = ec2.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"]
    states = {s["InstanceId"]: s["InstanceState"]["Name"] for s in status}
    assert len(states) == 12
    assert states[fleet.worker("cml-stopped-06").instance_id] == "stopped"
    assert sum(1 for s in states.values() if s == "running") == 11


async def test_one_instances_tags_are_what_moto_scanning_every_tag_finds(
    fleet: SimulatedFleet,
) -> None:
    """The simulator reads one resource's tags directly (moto scans every resource's): the
    answers are the same, tags written through boto3 included, and a pattern still scans."""
    backend = fleet.aws.ec2(fleet.region)
    assert "describe_tags" in vars(backend)  # the direct lookup, not moto's own method
    ec2 = _ec2(fleet)
    worker = fleet.worker("cml-labs-02")
    ec2.create_tags(Resources=[worker.instance_id], Tags=[{"Key": "owner", "Value": "z"}])
    scan = type(backend).describe_tags
    ids = [w.instance_id for w in fleet.workers] + ["i-0000000000000dead"]
    for resource_id in ids:
        wanted = {"resource-id": [resource_id]}
        assert backend.describe_tags(wanted) == scan(backend, wanted), resource_id
    direct = backend.describe_tags({"resource-id": [worker.instance_id]})
    assert {"resource_id": worker.instance_id, "key": "owner", "value": "z"}.items() <= direct[
        -1
    ].items() and direct[-1]["resource_type"] == "instance"
    pattern = {"resource-id": ["i-*"]}
    assert len(backend.describe_tags(pattern)) == len(scan(backend, pattern)) > len(ids)
    assert backend.describe_tags() == scan(backend)
    ec2.delete_tags(Resources=[worker.instance_id], Tags=[{"Key": "owner"}])
    gone = backend.describe_tags({"resource-id": [worker.instance_id]})
    assert "owner" not in {tag["key"] for tag in gone}


async def test_cloudwatch_has_realistic_datapoints(fleet: SimulatedFleet) -> None:
    cw = boto3.client(
        "cloudwatch",
        endpoint_url=fleet.aws_endpoint_url,
        region_name=fleet.region,
        **fleet.aws_credentials,
    )
    metrics = cw.list_metrics(Namespace="CWAgent")["Metrics"]
    # Keep ListMetrics' dimension order: moto's dimension matching depends on it.
    dims = {
        (m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in metrics
    }
    now = fleet.clock.now()

    def query(worker: str, namespace: str, name: str) -> list[float]:
        w = fleet.worker(worker)
        wanted = [d for n, d in dims if n == name and ("InstanceId", w.instance_id) in d]
        if namespace == "AWS/EC2":
            wanted = [(("InstanceId", w.instance_id),)]
        if not wanted:
            return []
        dimensions = [{"Name": k, "Value": v} for k, v in wanted[0]]
        result = cw.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "q",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": name,
                            "Dimensions": dimensions,
                        },
                        "Period": 300,
                        "Stat": "Average",
                    },
                }
            ],
            StartTime=now - timedelta(minutes=15),
            EndTime=now + timedelta(minutes=1),
        )
        return result["MetricDataResults"][0]["Values"]

    cpu = query("cml-busy-01", "AWS/EC2", "CPUUtilization")
    assert cpu and all(35 <= v <= 85 for v in cpu)
    assert query("cml-busy-01", "CWAgent", "mem_used_percent")
    assert query("cml-noagent-09", "AWS/EC2", "CPUUtilization")
    assert query("cml-noagent-09", "CWAgent", "mem_used_percent") == []
    assert query("cml-stopped-06", "AWS/EC2", "CPUUtilization") == []
    disk_dims = [
        dict(d)
        for n, d in dims
        if n == "disk_used_percent" and ("InstanceId", fleet.worker("cml-busy-01").instance_id) in d
    ]
    assert {d["path"] for d in disk_dims} == {"/", "/var/lib/libvirt/images"}
    assert all({"device", "fstype", "ImageId", "InstanceType"} <= set(d) for d in disk_dims)
    mem_dims = [dict(d) for n, d in dims if n == "mem_used_percent"]
    assert mem_dims and all(set(d) == {"InstanceId", "ImageId", "InstanceType"} for d in mem_dims)
    assert fleet.aws.datapoint_count(fleet.region) <= 11 * 4 * 4
