"""The decision tables of service status and license status, each in one function."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from cmltui.clock import ensure_utc
from cmltui.domain.enums import LicenseStatus, ServiceStatus, WorkerStatus
from cmltui.domain.settle import REGISTERING
from cmltui.domain.times import parse_time, time_problem


class CMLReach(StrEnum):
    """How far the last CML cycle of a worker got."""

    NOT_TRIED = "not_tried"  # no cycle yet (or not running)
    NO_ANSWER = "no_answer"  # refused, timed out, TLS failure, login rejected, nothing usable
    PARTIAL = "partial"  # /system_information answered, another call failed or was malformed
    FULL = "full"  # every call of the cycle answered with valid data


@dataclass(frozen=True)
class CMLOutcome:
    reach: CMLReach = CMLReach.NOT_TRIED
    health_valid: bool | None = None


def service_status(
    status: WorkerStatus,
    outcome: CMLOutcome,
    *,
    started_at: datetime | None,
    now: datetime,
    boot_grace: timedelta,
    cml_ready: bool | None = None,
) -> ServiceStatus:
    """A running worker is starting within the boot grace until CML answers.

    A CML that answers `ready: false` is still booting its services: starting within the
    grace (the DTO's `cml_ready` False tells this phase from the refusing one), degraded after.
    """
    if status is not WorkerStatus.RUNNING:
        return ServiceStatus.UNAVAILABLE
    in_grace = started_at is not None and now - ensure_utc(started_at) < boot_grace
    answered = outcome.reach in (CMLReach.FULL, CMLReach.PARTIAL)
    if answered and cml_ready is False:
        return ServiceStatus.STARTING if in_grace else ServiceStatus.DEGRADED
    if outcome.reach is CMLReach.FULL:
        return ServiceStatus.AVAILABLE if outcome.health_valid is True else ServiceStatus.DEGRADED
    if outcome.reach is CMLReach.PARTIAL:
        return ServiceStatus.DEGRADED
    return ServiceStatus.STARTING if in_grace else ServiceStatus.ERROR


REGISTERED_STATES = frozenset({"COMPLETED", "REGISTERED"})
"""CML's registration states of a registered product."""
_AUTHORIZED = {"AUTHORIZED", "IN_COMPLIANCE"}


def license_status(licensing: Mapping[str, Any] | None, *, now: datetime) -> LicenseStatus | None:
    """The license table, from the `/licensing` object as CML returns it.

    None when the licensing object has not been read (unknown, not "unregistered"), and when an
    expiry that decides it cannot be read (`license_time_problems` says which).
    """
    if licensing is None:
        return None
    registration = _section(licensing, "registration")
    authorization = _section(licensing, "authorization")
    reg_status = str(registration.get("status") or "").upper()
    auth_status = str(authorization.get("status") or "").upper()
    if auth_status == "EVAL_EXPIRED":
        return LicenseStatus.EXPIRED
    expiries = [_expiry(authorization), _expiry(registration)]
    if any(when is _UNREADABLE for when in expiries):
        return None
    if any(isinstance(when, datetime) and when < now for when in expiries):
        return LicenseStatus.EXPIRED
    if auth_status == "EVAL":
        return LicenseStatus.EVALUATION
    if not reg_status or reg_status == "UNREGISTERED" or _registering(reg_status):
        return LicenseStatus.UNREGISTERED  # a registration under way is not one yet
    if reg_status in REGISTERED_STATES and auth_status in _AUTHORIZED:
        return LicenseStatus.REGISTERED
    return LicenseStatus.INVALID


def _registering(reg_status: str) -> bool:
    """CML's smart agent says IN_PROGRESS (or RETRY_IN_PROGRESS, PENDING) while it registers."""
    return "PROGRESS" in reg_status or reg_status == "PENDING"


def license_operation(licensing: Mapping[str, Any] | None) -> Literal["registering"] | None:
    """`registering` while CML reports a registration under way, else None."""
    if licensing is None:
        return None
    reg_status = str(_section(licensing, "registration").get("status") or "").upper()
    return REGISTERING if _registering(reg_status) else None


def license_time_problems(licensing: Mapping[str, Any] | None) -> str | None:
    """One line naming each licence expiry CML sent that is not a usable time (None if none)."""
    if licensing is None:
        return None
    problems = [
        time_problem(f"{name}.expires", _section(licensing, name).get("expires"))
        for name in ("authorization", "registration")
        if _expiry(_section(licensing, name)) is _UNREADABLE
    ]
    return "; ".join(problems) or None


_UNREADABLE = object()


def _section(licensing: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = licensing.get(name)
    return value if isinstance(value, Mapping) else {}


def _expiry(section: Mapping[str, Any]) -> datetime | object | None:
    """The section's expiry: None when it has none, `_UNREADABLE` when it is not a time."""
    raw = section.get("expires")
    if raw is None or raw == "":
        return None
    when = parse_time(raw)
    return _UNREADABLE if when is None else when
