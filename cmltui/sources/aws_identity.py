"""Who is acting: the AWS caller's name from STS `GetCallerIdentity`, else the local user.

On a shared jump host the local user is often "root"; the role session or IAM user name in the
caller's ARN says who actually holds the credentials.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cmltui.credentials import local_user

log = logging.getLogger(__name__)

MAX_NAME = 64
_NOT_NAME = re.compile(r"[^\w+=,.@-]", re.ASCII)
"""IAM names and session names use only these characters; anything else is dropped."""


def name_from_arn(arn: str | None) -> str | None:
    """The session name of an assumed role, or the user name; None for anything else.

    arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com -> alice@example.com
    arn:aws:iam::123456789012:user/ops/bob                         -> bob
    arn:aws:sts::123456789012:federated-user/carol                 -> carol
    """
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    resource = parts[5]
    kind, _, rest = resource.partition("/")
    if not rest:
        return None
    if kind == "assumed-role":
        name = rest.split("/", 1)[1] if "/" in rest else ""
    elif kind in ("user", "federated-user"):
        name = rest.rsplit("/", 1)[-1]
    else:
        return None
    name = _NOT_NAME.sub("", name)[:MAX_NAME]
    return name or None


def operator_name(sts_client: Any) -> str:
    """The caller's name from STS, or the local user when STS cannot say."""
    try:
        arn = sts_client.get_caller_identity().get("Arn")
    except (BotoCoreError, ClientError) as exc:
        log.info("STS GetCallerIdentity failed (%s); using the local user name", exc)
        return local_user()
    return name_from_arn(arn) or local_user()


def look_up_operator(
    sts_client: Callable[[], Any], apply: Callable[[str], None]
) -> threading.Thread:
    """Ask STS on a daemon thread and hand the name to `apply`; start-up never waits for it.

    `sts_client` makes the client on that thread too (making one reads profiles and files).
    """

    def run() -> None:
        try:
            client = sts_client()
        except (BotoCoreError, ValueError) as exc:
            log.info("no STS client (%s); using the local user name", exc)
            apply(local_user())
            return
        apply(operator_name(client))

    thread = threading.Thread(target=run, name="cmltui-operator", daemon=True)
    thread.start()
    return thread
