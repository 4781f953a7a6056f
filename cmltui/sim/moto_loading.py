"""Loading moto without parsing botocore's data files over and over.

moto asks a new boto3 `Session` for region lists while its EC2 models load (three times) and
again for each account's backends. Every new session has its own botocore data loader, which
parses `endpoints.json` and the EC2 service model anew: about a third of a second of the demo's
start, on the way to its first figures. Sessions that moto makes share one loader instead;
a loader only caches the parsed files, so every answer stays the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import boto3.session
import botocore.loaders
import botocore.session

_shared: list[botocore.loaders.Loader] = []  # made on first use: one for the process


def _loader() -> botocore.loaders.Loader:
    if not _shared:
        _shared.append(botocore.session.get_session().get_component("data_loader"))
    return _shared[0]


class SharedDataSession(boto3.session.Session):
    """A boto3 session whose botocore data (endpoints, service models) is parsed once per
    process, shared with every other such session."""

    def __init__(self, *args: Any, botocore_session: Any = None, **kwargs: Any) -> None:
        if botocore_session is None:
            botocore_session = botocore.session.get_session()
            botocore_session.register_component("data_loader", _loader())
        super().__init__(*args, botocore_session=botocore_session, **kwargs)


@contextlib.contextmanager
def sessions_sharing_data() -> Iterator[None]:
    """Import moto inside: its modules take `from boto3 import Session` as they load, and keep
    this one. `boto3.Session` itself is the usual one again afterwards."""
    original = boto3.Session
    boto3.Session = SharedDataSession  # type: ignore[misc]
    try:
        yield
    finally:
        boto3.Session = original  # type: ignore[misc]
