"""One simulated worker's CML endpoint (its model, port, fault and counters) and the CML error
body; shared by the server and the lab API, which both serve it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from cmltui.sim.cml_model import CmlModel
from cmltui.sim.fleet import Fault


def error(status: int, description: str) -> web.Response:
    return web.json_response({"code": status, "description": description}, status=status)


@dataclass
class CmlEndpoint:
    """One worker's CML API: its model, its port, its fault and its counters."""

    name: str
    model: CmlModel
    username: str
    password: str
    port: int = 0
    serving: bool = False  # the instance runs and CML's web server accepts connections
    ready: bool = True  # CML's services are up (`ready: false` while they start)
    fault: Fault | None = None
    fault_params: dict[str, float] = field(default_factory=dict)
    request_count: int = 0
    login_count: int = 0  # successful POST /authenticate
    login_attempts: int = 0
    tokens: dict[str, datetime] = field(default_factory=dict, repr=False)
    _server: asyncio.Server | None = field(default=None, repr=False)
    _server_tls: str = field(default="", repr=False)
    _hanging: set[asyncio.Task[Any]] = field(default_factory=set, repr=False)

    @property
    def listening(self) -> bool:
        return self._server is not None

    def wanted_listener(self) -> str | None:
        """'trusted', 'untrusted' or None (refuse connections)."""
        if not self.serving or self.fault is Fault.REFUSE:
            return None
        return "untrusted" if self.fault is Fault.TLS_FAILURE else "trusted"
