"""The CML 2.9 REST API of every simulated worker, served over HTTPS on loopback.

One aiohttp application and one request-handler factory serve all workers; each worker gets its
own listening port (the request's local port says which worker it is for). That makes
connection refusal and TLS failures per worker real: a worker that is down has no listening
socket at all, and its open keep-alive connections are cut.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import socket
import ssl
from datetime import timedelta
from typing import Any

from aiohttp import web

from cmltui.clock import Clock
from cmltui.sim.cml_endpoint import CmlEndpoint, error
from cmltui.sim.cml_lab_api import LabApi
from cmltui.sim.cml_labs import LabError
from cmltui.sim.fleet import Fault
from cmltui.sim.tls import TlsMaterial

API = "/api/v0"
DEFAULT_TOKEN_TTL_S = 4 * 3600.0
_log = logging.getLogger(__name__)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _wrong_shape(body: Any) -> Any:
    """Valid JSON that a client expecting `body`'s shape must reject."""
    if isinstance(body, list):
        return {"unexpected": "object where a list belongs", "count": len(body)}
    return [{"unexpected": "list where an object belongs"}]


class CmlServer:
    """Serves every `CmlEndpoint` registered with it; listeners follow `reconcile`."""

    def __init__(
        self,
        host: str,
        clock: Clock,
        tls: TlsMaterial,
        secret: bytes,
        keepalive_timeout: float = 120.0,
    ) -> None:
        self.host = host
        self.clock = clock
        self.tls = tls
        self._secret = secret
        self._keepalive = keepalive_timeout
        self._by_port: dict[int, CmlEndpoint] = {}
        # A bound, not listening socket per port whose worker is down: it keeps the port ours
        # (another process cannot take it as an ephemeral port) and connections are refused.
        self._reserved: dict[int, socket.socket] = {}
        self._runner: web.AppRunner | None = None
        self._token_seq = 0

    # ----- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_post(f"{API}/authenticate", self._authenticate)
        r.add_get(f"{API}/authok", self._authok)
        r.add_get(f"{API}/system_information", self._system_information)
        r.add_get(f"{API}/system_health", self._authed(lambda ep, rq: ep.model.system_health()))
        r.add_get(
            f"{API}/system_stats",
            self._authed(lambda ep, rq: ep.model.system_stats(self.clock.now())),
        )
        r.add_get(f"{API}/labs", self._authed(self._labs))
        r.add_get(f"{API}/labs/{{lab_id}}", self._authed(self._lab))
        r.add_get(f"{API}/labs/{{lab_id}}/topology", self._authed(self._topology))
        r.add_get(
            f"{API}/licensing",
            self._authed(lambda ep, rq: ep.model.licensing_body(self.clock.now())),
        )
        r.add_post(f"{API}/licensing/registration", self._authed(self._register))
        r.add_delete(f"{API}/licensing/deregistration", self._authed(self._deregister))
        r.add_get(f"{API}/users", self._authed(lambda ep, rq: ep.model.users_body()))
        r.add_get(
            f"{API}/telemetry/events",
            self._authed(lambda ep, rq: ep.model.telemetry_body(self.clock.now())),
        )
        r.add_routes(LabApi(self.clock).routes(self._authed))
        self._runner = web.AppRunner(
            app,
            access_log=None,
            keepalive_timeout=self._keepalive,
            shutdown_timeout=0.5,
            handle_signals=False,
        )
        await self._runner.setup()

    async def stop(self) -> None:
        for ep in list(self._by_port.values()):
            self.close_listener(ep, keep_port=False)
        for sock in self._reserved.values():
            sock.close()
        self._reserved.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def operations(self) -> set[tuple[str, str]]:
        """(METHOD, OpenAPI path) of every operation served, e.g. ("GET", "/labs/{lab_id}")."""
        if self._runner is None:
            return set()
        out = set()
        for route in self._runner.app.router.routes():
            path = route.resource.canonical if route.resource is not None else ""
            if route.method != "HEAD" and path.startswith(API):
                out.add((route.method, path.removeprefix(API)))
        return out

    def add(self, ep: CmlEndpoint) -> None:
        """Register `ep`, giving it a free loopback port that stays its own (held open)."""
        if ep.port and ep.port not in self._by_port:
            self._reserve(ep.port)
        while not ep.port or ep.port in self._by_port:
            sock = self._bound(0)
            ep.port = sock.getsockname()[1]
            self._reserved[ep.port] = sock
        self._by_port[ep.port] = ep

    def _bound(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, port))
        except OSError:
            sock.close()
            raise
        return sock

    def _reserve(self, port: int) -> None:
        if port not in self._reserved:
            with contextlib.suppress(OSError):  # taken meanwhile: the next listen retries
                self._reserved[port] = self._bound(port)

    # ----- listeners ----------------------------------------------------------------------------

    def close_listener(self, ep: CmlEndpoint, keep_port: bool = True) -> None:
        """Stop listening now and cut the worker's open connections (synchronous on purpose)."""
        if ep._server is not None:
            ep._server.close()
            ep._server = None
            ep._server_tls = ""
            if keep_port and self._runner is not None:
                self._reserve(ep.port)
        for task in list(ep._hanging):
            task.cancel()
        for transport in self._transports_to(ep):
            transport.abort()

    def connections_to(self, ep: CmlEndpoint) -> int:
        """Connections open to the worker's port now."""
        return len(self._transports_to(ep))

    def _transports_to(self, ep: CmlEndpoint) -> list[asyncio.BaseTransport]:
        if self._runner is None or self._runner.server is None:
            return []
        found = []
        for handler in self._runner.server.connections:
            transport = handler.transport
            sockname = transport.get_extra_info("sockname") if transport is not None else None
            if transport is not None and sockname and sockname[1] == ep.port:
                found.append(transport)
        return found

    def needs_change(self, ep: CmlEndpoint) -> bool:
        return (ep.wanted_listener() or "") != ep._server_tls

    async def reconcile(self, ep: CmlEndpoint) -> None:
        """Make the listener match what the worker's state and fault call for."""
        wanted = ep.wanted_listener()
        if (wanted or "") == ep._server_tls:
            return
        self.close_listener(ep)
        if wanted is None or self._runner is None or self._runner.server is None:
            return
        ctx: ssl.SSLContext = self.tls.server if wanted == "trusted" else self.tls.untrusted
        loop = asyncio.get_running_loop()
        sock = self._reserved.pop(ep.port, None) or self._bound(ep.port)
        try:
            ep._server = await loop.create_server(
                self._runner.server, sock=sock, ssl=ctx, backlog=128
            )
        except BaseException:
            sock.close()
            raise
        ep._server_tls = wanted

    # ----- request handling ---------------------------------------------------------------------

    def _endpoint(self, request: web.Request) -> CmlEndpoint | None:
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport else None
        return self._by_port.get(sockname[1]) if sockname else None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        ep = self._endpoint(request)
        if ep is None or not ep.listening:
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        ep.request_count += 1
        fault, params = ep.fault, ep.fault_params
        if fault is Fault.HANG:
            task = asyncio.current_task()
            assert task is not None
            ep._hanging.add(task)
            try:
                await asyncio.Event().wait()
            finally:
                ep._hanging.discard(task)
        if fault is Fault.SLOW:
            await asyncio.sleep(float(params.get("delay_s", 3.0)))
        if fault is Fault.HTTP_500:
            return error(500, "Internal Server Error (simulated fault)")
        if fault is Fault.UNAUTHORIZED:
            return error(401, "Not authenticated (simulated fault)")
        if not ep.ready and request.path != f"{API}/system_information":
            return error(503, "CML is starting: its services are not ready yet.")
        response = await handler(request)
        is_login = request.path == f"{API}/authenticate"
        is_json = (
            isinstance(response, web.Response)
            and response.content_type == "application/json"
            and response.text is not None
        )
        if fault in (Fault.MALFORMED_JSON, Fault.WRONG_SHAPE) and is_json and not is_login:
            assert isinstance(response, web.Response) and response.text is not None
            if fault is Fault.MALFORMED_JSON:
                return web.Response(
                    text=response.text[: max(1, len(response.text) // 2)],
                    content_type="application/json",
                    status=response.status,
                )
            return web.json_response(
                _wrong_shape(json.loads(response.text)), status=response.status
            )
        return response

    def _issue_token(self, ep: CmlEndpoint) -> str:
        now = self.clock.now()
        ttl = DEFAULT_TOKEN_TTL_S
        if ep.fault is Fault.TOKEN_EXPIRY:
            ttl = float(ep.fault_params.get("ttl_s", 60.0))
        expires = now + timedelta(seconds=ttl)
        self._token_seq += 1
        header = _b64(b'{"alg":"HS256","typ":"JWT"}')
        claims = {
            "iss": "cmltui-sim",
            "sub": ep.model.users[1].id,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": f"{ep.port}-{self._token_seq}",
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256)
        token = f"{header}.{payload}.{_b64(signature.digest())}"
        ep.tokens = {t: exp for t, exp in ep.tokens.items() if exp > now}
        ep.tokens[token] = expires
        return token

    def _check_auth(self, ep: CmlEndpoint, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return error(401, "No authorization token provided.")
        expires = ep.tokens.get(token.strip())
        if expires is None:
            return error(401, "Invalid token.")
        if expires <= self.clock.now():
            return error(401, "Token expired.")
        return None

    def _authed(self, body: Any) -> Any:
        async def handler(request: web.Request) -> web.Response:
            ep = self._endpoint(request)
            assert ep is not None
            denied = self._check_auth(ep, request)
            if denied is not None:
                return denied
            try:
                result = body(ep, request)
                if asyncio.iscoroutine(result):
                    result = await result
            except LabError as exc:
                if not str(exc):  # an answer the OpenAPI gives no body
                    return web.Response(status=exc.status)
                return error(exc.status, str(exc))
            if isinstance(result, web.Response):
                return result
            return web.json_response(result)

        return handler

    async def _authenticate(self, request: web.Request) -> web.Response:
        ep = self._endpoint(request)
        assert ep is not None
        ep.login_attempts += 1
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError):
            return error(400, "Request body is not valid JSON.")
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("username"), str)
            or not isinstance(data.get("password"), str)
        ):
            return error(422, "username and password are required.")
        if not (
            hmac.compare_digest(data["username"], ep.username)
            and hmac.compare_digest(data["password"], ep.password)
        ):
            return error(403, "Authentication failed!")
        ep.login_count += 1
        return web.json_response(self._issue_token(ep))

    async def _authok(self, request: web.Request) -> web.Response:
        ep = self._endpoint(request)
        assert ep is not None
        return self._check_auth(ep, request) or web.json_response("OK")

    async def _system_information(self, request: web.Request) -> web.Response:
        ep = self._endpoint(request)
        assert ep is not None
        return web.json_response(ep.model.system_information(ready=ep.ready))

    def _labs(self, ep: CmlEndpoint, request: web.Request) -> Any:
        show_all = request.query.get("show_all", "false").lower() in ("true", "1", "yes")
        return ep.model.lab_ids(show_all)

    def _lab(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = ep.model.lab(request.match_info["lab_id"])
        if lab is None:
            return error(404, f"Lab not found: {request.match_info['lab_id']}")
        return ep.model.lab_body(lab)

    async def _register(self, ep: CmlEndpoint, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return error(400, "Request body is not valid JSON.")
        if not isinstance(body, dict) or set(body) - {"token", "reregister"}:
            return error(400, "Request body: a LicensingRegistration object is required.")
        token, reregister = body.get("token"), body.get("reregister", False)
        ep.model.licence.register(token, reregister, self.clock.now())
        return web.Response(status=204)

    def _deregister(self, ep: CmlEndpoint, request: web.Request) -> web.Response:
        ep.model.licence.deregister(self.clock.now())
        return web.Response(status=204)

    def _topology(self, ep: CmlEndpoint, request: web.Request) -> Any:
        lab = ep.model.lab(request.match_info["lab_id"])
        if lab is None:
            return error(404, f"Lab not found: {request.match_info['lab_id']}")
        return ep.model.topology_body(lab)


async def cancel_quietly(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait for it, swallowing the cancellation."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
