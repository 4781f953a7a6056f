"""Who acted: the caller's name from STS GetCallerIdentity (moto on 127.0.0.1), else local."""

from __future__ import annotations

import time

import boto3
import pytest

from cmltui.audit import AuditLog
from cmltui.backends.direct.wiring import Endpoints, build_core
from cmltui.config import Config
from cmltui.credentials import local_user
from cmltui.sources.aws_identity import name_from_arn, operator_name

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def sts(url: str, **creds: str):
    return boto3.client("sts", region_name="us-east-1", endpoint_url=url, **(creds or CREDS))


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com", "alice@example.com"),
        ("arn:aws:iam::123456789012:user/ops/bob", "bob"),
        ("arn:aws:sts::123456789012:federated-user/carol", "carol"),
        ("arn:aws:iam::123456789012:root", None),
        ("arn:aws:sts::123456789012:assumed-role/Admin", None),
        ("arn:aws:iam::123456789012:user/\x1b[31mevil\u202e", "31mevil"),
        ("not an arn", None),
    ],
)
def test_name_from_arn(arn, name):
    assert name_from_arn(arn) == name


def test_operator_is_the_iam_user_moto_reports(moto_url):
    # moto answers GetCallerIdentity for its default IAM user
    arn = sts(moto_url).get_caller_identity()["Arn"]
    assert operator_name(sts(moto_url)) == name_from_arn(arn) == arn.rsplit("/", 1)[1]


def test_operator_is_the_role_session_name(moto_url):
    creds = sts(moto_url).assume_role(
        RoleArn="arn:aws:iam::123456789012:role/cml-operators", RoleSessionName="alice.ops"
    )["Credentials"]
    client = sts(
        moto_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert client.get_caller_identity()["Arn"].endswith(":assumed-role/cml-operators/alice.ops")
    assert operator_name(client) == "alice.ops"


def test_the_local_user_when_sts_cannot_be_reached(closed_port, moto_url):
    client = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        config=boto3.session.Config(retries={"total_max_attempts": 1}, connect_timeout=1),
        **CREDS,
    )
    assert operator_name(client) == local_user()


def test_build_core_records_actions_as_the_sts_caller(moto_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    core = build_core(
        Config(),
        Endpoints(aws_endpoint_url=moto_url, env={}),
        audit=AuditLog(tmp_path / "audit.jsonl"),
    )
    expected = name_from_arn(sts(moto_url).get_caller_identity()["Arn"])
    deadline = time.monotonic() + 10
    while core.actions.operator != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert core.actions.operator == expected
    assert expected != local_user()
