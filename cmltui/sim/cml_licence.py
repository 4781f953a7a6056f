"""A simulated controller's Smart Licensing: its `/licensing` body, registration and
deregistration, as CML 2.9's OpenAPI describes them.

A registration CML's agent accepts (204) is `IN_PROGRESS` for `REGISTRATION_S` on the simulated
clock, then `COMPLETED` and `AUTHORIZED`. A token `bad` (or one starting `bad-`) is refused with
400, its description repeating the token as a careless server might (clients must not show it);
a token the OpenAPI's pattern refuses gets 400 too. A second request while one is in progress,
or a registration of a registered product without `reregister`, gets 409. Deregistration answers
204 and leaves the product unregistered; 400 when it is not registered; 409 while registering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from cmltui.sim.cml_labs import LabError

REGISTRATION_S = 3.0
TOKEN_PATTERN: Final = re.compile(r"[a-zA-Z\d+/%=-]{1,256}")
SMART_ACCOUNT = "Example Corp"
VIRTUAL_ACCOUNT = "Network Labs"


def iso(value: datetime) -> str:
    return value.isoformat()


_NONE_TIME: Final[dict[str, Any]] = {
    "succeeded": None,
    "attempted": None,
    "scheduled": None,
    "status": None,
    "failure": None,
    "success": None,
}


@dataclass
class SimLicence:
    """One controller's licence: `kind` is registered, eval, expired or unregistered."""

    kind: str
    t0: datetime
    registered_at: datetime | None = None
    registering_since: datetime | None = None
    expires_text: str | None = None
    """When set, served as `authorization.expires` as it is: a broken or hostile CML's text."""

    def __post_init__(self) -> None:
        if self.kind == "registered" and self.registered_at is None:
            self.registered_at = self.t0 - timedelta(days=40)

    # ----- operations -------------------------------------------------------------------------

    def settle(self, now: datetime) -> None:
        """A registration in progress completes `REGISTRATION_S` after it was accepted."""
        since = self.registering_since
        if since is not None and now >= since + timedelta(seconds=REGISTRATION_S):
            self.kind, self.registered_at, self.registering_since = "registered", now, None

    def register(self, token: object, reregister: object, now: datetime) -> None:
        """`POST /licensing/registration`; raises `LabError` with CML's answer when refused."""
        self.settle(now)
        if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
            raise LabError(400, "token: a registration token from Smart Licensing is required.")
        if not isinstance(reregister, bool):
            raise LabError(400, "reregister: a boolean is required.")
        if self.registering_since is not None:
            raise LabError(409, "A registration is already in progress.")
        if token == "bad" or token.startswith("bad-"):
            raise LabError(400, f"Invalid registration token {token!r}: it was not accepted.")
        if self.kind == "registered" and not reregister:
            raise LabError(409, "The product is already registered; ask for reregistration.")
        self.registering_since = now

    def deregister(self, now: datetime) -> None:
        """`DELETE /licensing/deregistration`; raises `LabError` when refused."""
        self.settle(now)
        if self.registering_since is not None:
            raise LabError(409, "A registration is in progress; deregister when it is done.")
        if self.kind != "registered":
            raise LabError(400, "")  # the OpenAPI's 400 here has no body
        self.kind, self.registered_at = "unregistered", None

    @property
    def is_licensed(self) -> bool:
        return self.kind in ("registered", "eval")

    # ----- the /licensing body ----------------------------------------------------------------

    def body(self, now: datetime, hostname: str, product_uuid: str, in_use: int) -> dict[str, Any]:
        self.settle(now)
        t0 = self.t0
        if self.kind == "registered":
            reg_at = self.registered_at or t0
            registration = {
                "status": "COMPLETED",
                "smart_account": SMART_ACCOUNT,
                "virtual_account": VIRTUAL_ACCOUNT,
                "register_time": {
                    **_NONE_TIME,
                    "succeeded": iso(reg_at),
                    "attempted": iso(reg_at),
                    "status": "SUCCEEDED",
                    "success": "SUCCESS",
                },
                "renew_time": {
                    **_NONE_TIME,
                    "scheduled": iso(t0 + timedelta(days=140)),
                    "status": "SCHEDULED",
                },
                "expires": iso(t0 + timedelta(days=325)),
            }
            authorization: dict[str, Any] = {
                "status": "AUTHORIZED",
                "renew_time": {
                    **_NONE_TIME,
                    "scheduled": iso(t0 + timedelta(days=20)),
                    "status": "SCHEDULED",
                },
                "expires": iso(t0 + timedelta(days=80)),
            }
            active = "CML_Enterprise"
        else:
            registration = {
                "status": "UNREGISTERED",
                "smart_account": None,
                "virtual_account": None,
                "register_time": _NONE_TIME,
                "renew_time": _NONE_TIME,
                "expires": None,
            }
            status, expires = {
                "eval": ("EVAL", t0 + timedelta(days=58)),
                "expired": ("EVAL_EXPIRED", t0 - timedelta(days=3)),
            }.get(self.kind, ("NOT_AUTHORIZED", None))
            authorization = {
                "status": status,
                "renew_time": _NONE_TIME,
                "expires": iso(expires) if expires else None,
            }
            active = "CML_Enterprise" if self.kind != "unregistered" else "CML_Personal"
        since = self.registering_since
        if since is not None:  # a (re)registration the agent is working on
            registration["status"] = "IN_PROGRESS"
            registration["register_time"] = {
                **_NONE_TIME,
                "attempted": iso(since),
                "status": "IN_PROGRESS",
            }
        if self.expires_text is not None:
            authorization["expires"] = self.expires_text
        return {
            "udi": {"hostname": hostname, "product_uuid": product_uuid},
            "registration": registration,
            "authorization": authorization,
            "reservation_mode": False,
            "features": [
                {
                    "id": "regid.2019-10.com.cisco.CML_NODE_COUNT,1.0_3a6e3b6c",
                    "name": "CML - Enterprise Node Count",
                    "description": "Node count license",
                    "version": "1.0",
                    "in_use": in_use,
                    "status": "IN_USE" if in_use else "NOT_IN_USE",
                    "min": 0,
                    "max": 300,
                    "minEndDate": None,
                    "maxEndDate": None,
                }
            ],
            "product_license": {"active": active, "is_enterprise": self.kind != "unregistered"},
            "transport": {
                "proxy": {"server": None, "port": None},
                "ssms": None,
                "default_ssms": "https://smartreceiver.cisco.com/licservice/license",
            },
        }
