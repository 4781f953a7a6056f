"""The decision tables of service status and license status, each in one function."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cmltui.clock import ensure_utc
from cmltui.domain.enums import LicenseStatus, ServiceStatus, WorkerStatus


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


_REGISTERED = {"COMPLETED", "REGISTERED"}
_AUTHORIZED = {"AUTHORIZED", "IN_COMPLIANCE"}


def license_status(licensing: Mapping[str, Any] | None, *, now: datetime) -> LicenseStatus | None:
    """The license table, from the `/licensing` object as CML returns it.

    None when the licensing object has not been read (unknown, not "unregistered").
    """
    if licensing is None:
        return None
    registration = licensing.get("registration") or {}
    authorization = licensing.get("authorization") or {}
    reg_status = str(registration.get("status") or "").upper()
    auth_status = str(authorization.get("status") or "").upper()
    expired = _expired(authorization.get("expires"), now) or _expired(
        registration.get("expires"), now
    )
    if auth_status == "EVAL_EXPIRED" or expired:
        return LicenseStatus.EXPIRED
    if auth_status == "EVAL":
        return LicenseStatus.EVALUATION
    if not reg_status or reg_status == "UNREGISTERED":
        return LicenseStatus.UNREGISTERED
    if reg_status in _REGISTERED and auth_status in _AUTHORIZED:
        return LicenseStatus.REGISTERED
    return LicenseStatus.INVALID


def _expired(expires: Any, now: datetime) -> bool:
    if not expires:
        return False
    try:
        when = ensure_utc(datetime.fromisoformat(str(expires).replace("Z", "+00:00")))
    except ValueError:
        return False
    return when < now
