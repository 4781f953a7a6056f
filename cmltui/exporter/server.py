"""The exporter's HTTP side: `GET /metrics` served by aiohttp on the core's own event loop.

It serves the metrics and a one-line index, nothing else: no action can be taken through it.
It listens on loopback unless the operator asks for another address explicitly
(`--allow-remote`), since the metrics name every worker, its account and what it costs.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from cmltui.api.backend import Backend, SourceStatus
from cmltui.api.events import FleetSnapshot
from cmltui.api.health import CollectorHealth, HealthSource
from cmltui.exporter.metrics import FleetMetrics

DEFAULT_LISTEN = "127.0.0.1:9719"
METRICS_PATH = "/metrics"


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{METRICS_PATH}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False  # a host name: it may resolve anywhere


def parse_listen(text: str) -> Listen:
    """`HOST:PORT` (`[::1]:9719` for IPv6); ValueError with a one-line reason otherwise."""
    host, sep, port_text = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--listen {text!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return Listen(host, int(port_text))


class Exporter:
    """Keeps the last snapshot and source state the backend published; serves them on scrape."""

    def __init__(self, backend: Backend, listen: Listen) -> None:
        self.backend = backend
        self.listen = listen
        self.latest: FleetSnapshot | None = None
        self.status: SourceStatus | None = None
        self.scrapes = 0
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(FleetMetrics(lambda: self.latest, lambda: self.status, self._health))
        self._runner: web.AppRunner | None = None

    def _health(self) -> CollectorHealth | None:
        backend = self.backend
        return backend.collector_health() if isinstance(backend, HealthSource) else None

    def _on_snapshot(self, snapshot: FleetSnapshot) -> None:
        self.latest = snapshot

    def _on_status(self, status: SourceStatus) -> None:
        self.status = status

    async def start(self) -> None:
        """Listen first (a port in use fails before any AWS call), then start the backend."""
        self.backend.subscribe_snapshots(self._on_snapshot)
        self.backend.subscribe_status(self._on_status)
        app = web.Application()
        app.router.add_get(METRICS_PATH, self._metrics)
        app.router.add_get("/", self._index)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen.host, self.listen.port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        await self.backend.start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        """The exposition, made off the loop (a big fleet's text never delays a cycle)."""
        self.scrapes += 1
        body = await asyncio.to_thread(generate_latest, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _index(self, _request: web.Request) -> web.Response:
        return web.Response(text=f"cmltui exporter: metrics at {METRICS_PATH}\n")
