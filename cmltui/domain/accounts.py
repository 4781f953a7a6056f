"""AWS accounts and the worker key (README, "Several AWS accounts").

EC2 instance ids are unique only within an account, so a worker is known by its key: the
instance id for the one default account (a config without `[[aws.accounts]]`, as before), and
`account/instance-id` for a worker of a named account. The DTO's `id`, every activity event's
`worker_id`, the registry and the dashboard all use the key; `aws_instance_id` stays the bare
instance id, and the audit log records the instance id and the account apart.
"""

from __future__ import annotations

import re

ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
"""An account's name: short, and safe in a worker key, a filter, a header and a metric label."""
KEY_SEPARATOR = "/"
SIMULATED_ACCOUNTS = ("training", "development", "production", "sandbox")
"""The names of the simulated fleet's accounts (`simulate --accounts N`, `demo --accounts N`)."""


def worker_key(account: str | None, instance_id: str) -> str:
    """The one key of a worker: the instance id, qualified by its account's name if it has one."""
    return instance_id if account is None else f"{account}{KEY_SEPARATOR}{instance_id}"


def split_key(key: str) -> tuple[str | None, str]:
    """(account or None, instance id) of a worker key."""
    account, sep, instance_id = key.rpartition(KEY_SEPARATOR)
    return (account, instance_id) if sep else (None, key)


def accounts_word(names: tuple[str, ...], *, wide: bool) -> str:
    """How a header names the accounts: all of them when wide, else how many."""
    return f"accounts {', '.join(names)}" if wide else f"{len(names)} accounts"
