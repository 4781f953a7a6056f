"""Wiring: builds the core (sources, registry, collector) from a `Config`.

`cmltui run`, `cmltui demo` and `cmltui snapshot` all go through here, so the demo runs the very
same collector as production; only the endpoints and credentials differ.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from cmltui.api.backend import WARNINGS_KEPT
from cmltui.api.events import ActivityEvent
from cmltui.api.subscribers import Subscribers
from cmltui.audit import AuditLog, default_audit_path
from cmltui.backends.direct.actions import Actions
from cmltui.backends.direct.cml_actions import CmlActions
from cmltui.backends.direct.collector import Collector
from cmltui.backends.direct.idle_checker import IdleChecker
from cmltui.backends.direct.pricing import PriceBook, build_price_book
from cmltui.backends.direct.savings import SavingsLedger
from cmltui.backends.direct.targets import CMLTargetResolver
from cmltui.clock import Clock, SystemClock
from cmltui.config import Config
from cmltui.domain.freshness import CLOUDWATCH_PERIOD_S
from cmltui.domain.intervals import Cadence
from cmltui.domain.registry import WorkerRegistry
from cmltui.gcpolicy import collect_rarely
from cmltui.sources.aws import AwsSource
from cmltui.sources.aws_accounts import AwsAccounts
from cmltui.sources.aws_identity import look_up_operator
from cmltui.sources.aws_role import AssumedRole
from cmltui.sources.cml_client import CMLClient


@dataclass(frozen=True)
class Endpoints:
    """Where the core talks to. The demo forces all of these; production takes the config."""

    aws_endpoint_url: str | None = None
    aws_credentials: Mapping[str, str] | None = None
    account_credentials: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Keys forced per named account (the demo's second account); else `aws_credentials`."""
    cml_password: str | None = None
    cml_ca_bundle: Path | None = None
    demo: bool = False
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass
class Core:
    config: Config
    clock: Clock
    registry: WorkerRegistry
    aws: AwsSource
    """The first account's source (prices are read through it)."""
    cml: CMLClient
    collector: Collector
    actions: Actions
    cml_actions: CmlActions
    """The actions on a worker's CML (labs, the licence); they share `actions`' guard."""
    idle_checker: IdleChecker
    demo: bool
    activity: Subscribers[ActivityEvent]
    """The activity channel: the actions and the idle checker publish their own events here."""
    warnings: Subscribers[str]
    """What an action or the core leaves behind for the operator (kept for late subscribers)."""
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    prices: PriceBook | None = None
    operator_lookups: tuple[threading.Thread, ...] = ()
    """STS asked in the background for each account's operator name (a command waits)."""
    accounts: AwsAccounts | None = None
    """Every account's source, the first being `aws`."""

    def __post_init__(self) -> None:
        if self.accounts is None:
            self.accounts = AwsAccounts([self.aws])

    async def close(self) -> None:
        """Close the clients, then whatever the core was opened with (the demo's fleet)."""
        if self.prices is not None:
            await self.prices.close()
        await self.cml.close()
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def build_core(
    config: Config,
    endpoints: Endpoints,
    clock: Clock | None = None,
    *,
    audit: AuditLog | None = None,
    operator: str | None = None,
    cadence: Cadence | None = None,
) -> Core:
    clock = clock or SystemClock()
    collect_rarely()
    env = dict(endpoints.env)
    if endpoints.demo:
        # The demo never touches a real account: dummy keys, loopback endpoints, no profile.
        env = {"CMLTUI_CML_PASSWORD": endpoints.cml_password or ""}
    accounts = aws_accounts(config, endpoints, clock)
    aws = accounts.primary
    ca_bundle = str(endpoints.cml_ca_bundle) if endpoints.cml_ca_bundle else config.cml.ca_bundle
    cml = CMLClient(
        request_timeout=config.cml.request_timeout,
        concurrency=config.cml.concurrency,
        verify_tls=config.cml.verify_tls,
        ca_bundle=ca_bundle,
        keepalive_timeout=max(120.0, 3 * config.intervals.collector),
        max_response_bytes=config.cml.max_response_bytes,
        max_json_depth=config.cml.max_json_depth,
        worker_deadline=config.cml.worker_deadline,
    )
    registry = WorkerRegistry()
    targets = CMLTargetResolver(config.cml, env)
    audit = audit or AuditLog(default_audit_path(demo=endpoints.demo))
    prices = build_price_book(config, aws, demo=endpoints.demo, clock=clock)
    activity: Subscribers[ActivityEvent] = Subscribers()
    collector = Collector(
        config=config,
        aws=accounts,
        cml=cml,
        registry=registry,
        clock=clock,
        targets=targets,
        cadence=cadence,
        prices=prices,
        ledger=SavingsLedger(audit),
        publish=activity.publish,
    )
    warnings: Subscribers[str] = Subscribers(keep=WARNINGS_KEPT)
    actions = Actions(
        config=config,
        registry=registry,
        aws=accounts,
        clock=clock,
        audit=audit,
        operator=operator,
        read_soon=collector.read_soon,
        publish=activity.publish,
        warn=warnings.publish,
    )
    lookups: list[threading.Thread] = []
    if operator is None and not endpoints.demo:  # each account's AWS caller; local user until then
        for source in accounts:
            lookups.append(
                look_up_operator(
                    partial(source.client, "sts", source.regions[0]),
                    partial(actions.set_operator, account=source.account),
                )
            )

    if audit.problem:  # shown once in the dashboard; actions consult `audit.usable`
        warnings.publish(audit.problem)
    idle_checker = IdleChecker(
        config=config,
        registry=registry,
        cml=cml,
        targets=collector.target_for,
        clock=clock,
        actions=actions,
        publish=activity.publish,
    )
    return Core(
        config=config,
        clock=clock,
        registry=registry,
        aws=aws,
        cml=cml,
        collector=collector,
        actions=actions,
        cml_actions=CmlActions(actions=actions, cml=cml, targets=collector.target_for),
        idle_checker=idle_checker,
        demo=endpoints.demo,
        operator_lookups=tuple(lookups),
        activity=activity,
        warnings=warnings,
        prices=prices,
        accounts=accounts,
    )


def aws_accounts(config: Config, endpoints: Endpoints, clock: Clock) -> AwsAccounts:
    """One source per configured account, each with its own credentials, clients and errors.

    The demo forces its keys on every account (no profile is ever read).
    """
    sources = []
    for spec in config.aws.account_sources():
        forced = endpoints.account_credentials.get(spec.name or "") or endpoints.aws_credentials
        sources.append(
            AwsSource(
                account=spec.name,
                regions=list(spec.regions),
                profile=None if endpoints.demo else spec.profile,
                role=AssumedRole(spec.role_arn, spec.external_id) if spec.role_arn else None,
                endpoint_url=endpoints.aws_endpoint_url or config.aws.endpoint_url,
                filters=[f.model_dump() for f in config.aws.filters],
                credentials=dict(forced) if forced else None,
                retry_mode=config.aws.retry_mode,
                max_attempts=config.aws.max_attempts,
                clock=clock,
                cloudwatch_period=CLOUDWATCH_PERIOD_S,
            )
        )
    return AwsAccounts(sources)
