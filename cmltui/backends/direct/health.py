"""Measuring a collector cycle for `CollectorHealth`: its time, its CML requests, AWS calls."""

from __future__ import annotations

import time
from dataclasses import replace

from cmltui.api.health import AwsCallKey, CollectorHealth
from cmltui.backends.direct.wiring import Core
from cmltui.sources.aws_accounts import AwsAccounts


class CycleMeter:
    """Started as a cycle starts; `ended` gives the health with that cycle counted."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._started = time.monotonic()
        stats = core.cml.stats
        self._requests, self._failures = stats.requests, stats.failures

    def ended(self, before: CollectorHealth, *, listed: bool) -> CollectorHealth:
        """`listed`: at least one region of one account could be listed."""
        core = self._core
        stats = core.cml.stats
        requests, failures = stats.requests - self._requests, stats.failures - self._failures
        return replace(
            before,
            cycles=before.cycles + listed,
            failures=before.failures + (not listed),
            last_cycle_seconds=time.monotonic() - self._started,
            last_success_at=core.clock.now() if listed else before.last_success_at,
            cml_requests=stats.requests,
            cml_request_errors=stats.failures,
            last_cycle_cml_requests=requests,
            last_cycle_cml_request_errors=failures,
            aws_calls=aws_calls(core),
        )


def aws_calls(core: Core) -> dict[AwsCallKey, int]:
    """Every account's AWS calls so far, by account, region, service and operation."""
    calls: dict[AwsCallKey, int] = {}
    for source in core.accounts or AwsAccounts([core.aws]):
        account = source.account or ""
        for (region, service, operation), count in source.calls.snapshot().items():
            calls[(account, region, service, operation)] = count
    return calls
