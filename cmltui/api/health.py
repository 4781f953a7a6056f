"""How the collector itself is doing: what an exporter or a status line reports about it.

Plain data, kept by the core service as cycles end; reading it never starts a collection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

AwsCallKey = tuple[str, str, str, str]
"""(account, region, service, operation); the account is "" for the one default account."""


@dataclass(frozen=True)
class CollectorHealth:
    cycles: int = 0
    """Cycles that ended with a snapshot."""
    failures: int = 0
    """Cycles that failed, or in which no region of any account could be listed."""
    last_cycle_seconds: float | None = None
    last_success_at: datetime | None = None
    """When the last cycle that listed at least one region ended."""
    cml_requests: int = 0
    cml_request_errors: int = 0
    last_cycle_cml_requests: int = 0
    last_cycle_cml_request_errors: int = 0
    aws_calls: Mapping[AwsCallKey, int] = field(default_factory=dict)
    """AWS API calls made since the start (pages counted, retries not)."""


@runtime_checkable
class HealthSource(Protocol):
    """A backend that runs its own collector (the direct core; not a Cloud Manager stream)."""

    def collector_health(self) -> CollectorHealth: ...
