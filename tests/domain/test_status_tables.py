"""The service-status and license-status tables, row by row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cmltui.domain.enums import LicenseStatus, ServiceStatus, WorkerStatus
from cmltui.domain.status import CMLOutcome, CMLReach, license_status, service_status
from tests.core_factories import NOW

GRACE = timedelta(minutes=10)
RECENT = NOW - timedelta(minutes=3)
LONG_AGO = NOW - timedelta(hours=3)


@pytest.mark.parametrize(
    ("status", "outcome", "started", "expected"),
    [
        # instance not running -> unavailable, whatever CML said
        (
            WorkerStatus.STOPPED,
            CMLOutcome(CMLReach.FULL, True),
            LONG_AGO,
            ServiceStatus.UNAVAILABLE,
        ),
        (WorkerStatus.PENDING, CMLOutcome(), RECENT, ServiceStatus.UNAVAILABLE),
        (WorkerStatus.STOPPING, CMLOutcome(), RECENT, ServiceStatus.UNAVAILABLE),
        (WorkerStatus.TERMINATED, CMLOutcome(), LONG_AGO, ServiceStatus.UNAVAILABLE),
        (WorkerStatus.UNKNOWN, CMLOutcome(), LONG_AGO, ServiceStatus.UNAVAILABLE),
        # running, no answer yet, within the boot grace -> starting
        (WorkerStatus.RUNNING, CMLOutcome(CMLReach.NO_ANSWER), RECENT, ServiceStatus.STARTING),
        (WorkerStatus.RUNNING, CMLOutcome(CMLReach.NOT_TRIED), RECENT, ServiceStatus.STARTING),
        # every call answered and health valid -> available
        (WorkerStatus.RUNNING, CMLOutcome(CMLReach.FULL, True), LONG_AGO, ServiceStatus.AVAILABLE),
        (WorkerStatus.RUNNING, CMLOutcome(CMLReach.FULL, True), RECENT, ServiceStatus.AVAILABLE),
        # system_information answers, another call failed / bad data / health invalid -> degraded
        (
            WorkerStatus.RUNNING,
            CMLOutcome(CMLReach.PARTIAL, True),
            LONG_AGO,
            ServiceStatus.DEGRADED,
        ),
        (WorkerStatus.RUNNING, CMLOutcome(CMLReach.FULL, False), LONG_AGO, ServiceStatus.DEGRADED),
        (WorkerStatus.RUNNING, CMLOutcome(CMLReach.FULL, None), LONG_AGO, ServiceStatus.DEGRADED),
        # after the grace: nothing usable -> error
        (WorkerStatus.RUNNING, CMLOutcome(CMLReach.NO_ANSWER), LONG_AGO, ServiceStatus.ERROR),
        (WorkerStatus.RUNNING, CMLOutcome(CMLReach.NO_ANSWER), None, ServiceStatus.ERROR),
    ],
)
def test_service_status_table(status, outcome, started, expected):
    got = service_status(status, outcome, started_at=started, now=NOW, boot_grace=GRACE)
    assert got is expected


@pytest.mark.parametrize(
    ("outcome", "started", "expected"),
    [
        # CML answers `ready: false` while its services start: starting within the grace...
        (CMLOutcome(CMLReach.PARTIAL, None), RECENT, ServiceStatus.STARTING),
        (CMLOutcome(CMLReach.FULL, True), RECENT, ServiceStatus.STARTING),
        # ...and degraded once the grace is over (it should have been ready long ago).
        (CMLOutcome(CMLReach.PARTIAL, None), LONG_AGO, ServiceStatus.DEGRADED),
        (CMLOutcome(CMLReach.FULL, True), LONG_AGO, ServiceStatus.DEGRADED),
        # `ready: false` never turns "no answer" into anything else.
        (CMLOutcome(CMLReach.NO_ANSWER), LONG_AGO, ServiceStatus.ERROR),
    ],
)
def test_service_status_while_cml_is_not_ready(outcome, started, expected):
    got = service_status(
        WorkerStatus.RUNNING,
        outcome,
        started_at=started,
        now=NOW,
        boot_grace=GRACE,
        cml_ready=False,
    )
    assert got is expected


def test_unknown_ec2_state_is_unknown_not_pending():
    assert WorkerStatus.from_ec2("rebooting-ish") is WorkerStatus.UNKNOWN
    assert WorkerStatus.from_ec2(None) is WorkerStatus.UNKNOWN
    assert WorkerStatus.from_ec2("shutting-down") is WorkerStatus.SHUTTING_DOWN


def _lic(reg=None, auth=None, auth_expires=None):
    data = {}
    if reg is not None:
        data["registration"] = {"status": reg}
    if auth is not None:
        data["authorization"] = {"status": auth, "expires": auth_expires}
    return data


@pytest.mark.parametrize(
    ("licensing", "expected"),
    [
        (_lic("UNREGISTERED", "EVAL"), LicenseStatus.EVALUATION),
        (_lic("COMPLETED", "EVAL"), LicenseStatus.EVALUATION),
        (_lic("UNREGISTERED", "EVAL_EXPIRED"), LicenseStatus.EXPIRED),
        (_lic("COMPLETED", "AUTHORIZED", "2020-01-01T00:00:00+00:00"), LicenseStatus.EXPIRED),
        (_lic("COMPLETED", "EVAL", "2026-11-28T11:00:00"), LicenseStatus.EXPIRED),  # naive = UTC
        (_lic("COMPLETED", "AUTHORIZED"), LicenseStatus.REGISTERED),
        (_lic("REGISTERED", "AUTHORIZED"), LicenseStatus.REGISTERED),
        (_lic("COMPLETED", "IN_COMPLIANCE"), LicenseStatus.REGISTERED),
        (_lic("COMPLETED", "AUTHORIZED", "2030-01-01T00:00:00Z"), LicenseStatus.REGISTERED),
        (_lic("COMPLETED", "OUT_OF_COMPLIANCE"), LicenseStatus.INVALID),
        (_lic("COMPLETED", "NOT_AUTHORIZED"), LicenseStatus.INVALID),
        (_lic("COMPLETED", "SOMETHING_NEW"), LicenseStatus.INVALID),
        (_lic("WEIRD", "AUTHORIZED"), LicenseStatus.INVALID),
        ({}, LicenseStatus.UNREGISTERED),
        (_lic(None, "NOT_AUTHORIZED"), LicenseStatus.UNREGISTERED),
        (_lic("UNREGISTERED", "NOT_AUTHORIZED"), LicenseStatus.UNREGISTERED),
        (None, None),  # not read yet: unknown, not unregistered
    ],
)
def test_license_table(licensing, expected):
    assert license_status(licensing, now=NOW) == expected
