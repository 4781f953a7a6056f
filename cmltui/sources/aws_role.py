"""An account reached through a role: STS AssumeRole with the base credentials, renewed by
botocore before they expire (README, "Several AWS accounts").

The role session is named after whoever holds the base credentials (the IAM user or role
session name from STS, else the local user), so the operator name read back from the assumed
role's ARN, and written to the audit log and the `…-by` tags, is still that person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.credentials import CredentialProvider, RefreshableCredentials

from cmltui.sources.aws_identity import operator_name

log = logging.getLogger(__name__)

CredentialMetadata = dict[str, str]
SESSION_SECONDS = 3600


@dataclass(frozen=True)
class AssumedRole:
    role_arn: str
    external_id: str | None = None

    def fetcher(
        self, base: boto3.session.Session, client_kwargs: Mapping[str, Any]
    ) -> Callable[[], CredentialMetadata]:
        """A function that assumes the role with the base session's credentials (each call a
        fresh AssumeRole; botocore calls it again shortly before the credentials expire)."""
        session_name: list[str] = []

        def fetch() -> CredentialMetadata:
            sts = base.client("sts", **client_kwargs)
            if not session_name:
                session_name.append(role_session_name(operator_name(sts)))
            extra = {"ExternalId": self.external_id} if self.external_id else {}
            reply = sts.assume_role(
                RoleArn=self.role_arn,
                RoleSessionName=session_name[0],
                DurationSeconds=SESSION_SECONDS,
                **extra,
            )
            creds = reply["Credentials"]
            log.info("assumed %s as %s", self.role_arn, session_name[0])
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        return fetch


def role_session_name(name: str) -> str:
    """STS wants 2 to 64 of `[\\w+=,.@-]`; `operator_name` already keeps only those."""
    return name if len(name) >= 2 else f"cmltui-{name}"


class AssumedRoleProvider(CredentialProvider):
    """First in the session's credential chain: the role's renewable credentials."""

    METHOD = "cmltui-assume-role"
    CANONICAL_NAME = "cmltui-assume-role"

    def __init__(self, fetch: Callable[[], CredentialMetadata]) -> None:
        super().__init__()
        self._fetch = fetch

    def load(self) -> RefreshableCredentials:
        return RefreshableCredentials.create_from_metadata(
            metadata=self._fetch(), refresh_using=self._fetch, method=self.METHOD
        )
