"""`CcmSimulator`: a CML Cloud Manager test double over HTTPS on loopback (aiohttp).

It serves the routes cmltui uses as upstream's controllers serve them (bvandewe/
CML-Cloud-Manager at 89d60c8, `src/control-plane-api/api/controllers/`), quirks included:

- `GET /api/workers/region/{r}/workers`, `GET …/workers/{id}`, `GET …/workers/{id}/idle-status`,
  `POST …/workers/{id}/idle-detection/enable|disable`, `POST …/workers/{id}/stop|start`
  (`workers_controller.py`) and `GET /api/labs/region/{r}/workers/{id}/labs`
  (`labs_controller.py`); the lab actions and the licence routes (`ccm_lab_licence`);
- the event stream `GET /api/events/stream` (`events_controller.py`): a `connected` frame, then
  one `worker.snapshot` per worker broadcast to every client, then events, with a `heartbeat`
  only after `heartbeat_s` of silence.

Auth follows `api/dependencies.py`: a bearer token it does not know is 401; the actions need
the `admin` role (403 otherwise, `{"detail": …}`). The region is upstream's enum: any other
gets FastAPI's 422 whose `detail` is a list. Faults can be injected: drop the streams,
`auth.session.expired`, `system.sse.shutdown`, `event: error`, 401 on the next connects, 503
for a while, a stream that closes right after `connected`, any raw frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from cmltui.clock import Clock, SystemClock
from cmltui.invocation import command
from cmltui.sim import ccm_lab_licence
from cmltui.sim import ccm_shapes as shapes
from cmltui.sim.ccm_http import json_error
from cmltui.sim.ccm_model import CcmModel, CcmWorker, Outgoing
from cmltui.sim.tls import make_tls

log = logging.getLogger(__name__)

ADMIN_ROLE = "admin"


class _Client:
    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self.request = request
        self.response = response
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.last_sent = time.monotonic()


class CcmSimulator:
    def __init__(
        self,
        workers: int = 12,
        seed: int = 0,
        *,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        region: str = "us-east-1",
        heartbeat_s: float = 30.0,
        tick_s: float = 5.0,
        token: str | None = None,
        model: CcmModel | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.host = host
        self.region = region
        self.heartbeat_s = heartbeat_s
        self.tick_s = tick_s
        self.token = token or "ccm-sim-" + secrets.token_urlsafe(24)
        # Bearer token -> the user `api/dependencies.get_current_user` would return for it.
        self.users: dict[str, dict[str, Any]] = {
            self.token: {"sub": "ccm-sim-user", "username": "ccm-sim-user", "roles": [ADMIN_ROLE]}
        }
        self.model = model or CcmModel(workers, seed, self.clock.now(), region)
        self.port = 0
        self.ca_file = Path()
        self.reject_connects = 0  # fault: answer this many stream requests with 401
        self.unavailable_until = 0.0  # fault: streams answer 503 until this monotonic time
        self.skip_initial: set[str] = set()  # fault: worker ids left out of the initial set
        self.close_after_connect = False  # fault: a flapping server (or proxy)
        self.expire_after_connect = False  # fault: auth.session.expired right after connected
        self.list_body: bytes | None = None  # fault: the worker list answers these bytes
        self.action_body: bytes | None = None  # fault: an action, done, answers these bytes
        self.stream_requests = 0
        self.connects = 0
        self.requests: dict[str, int] = {}  # route name -> requests answered
        self.sent: dict[str, int] = {}  # event type -> frames written to clients
        self.after_action: Callable[[], None] | None = None
        self.licence_poll_s = 5.0  # how long a licence job takes to see CML complete it
        self.lab_licence: ccm_lab_licence.LabAndLicenceRoutes | None = None
        self._clients: set[_Client] = set()
        self._runner: web.AppRunner | None = None
        self._tmp: Path | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def stream_clients(self) -> int:
        return len(self._clients)

    def add_token(self, *, sub: str, roles: Sequence[str] = ()) -> str:
        """A token for another user (`roles=()`: a valid login without the admin role)."""
        token = "ccm-sim-" + secrets.token_urlsafe(24)
        self.users[token] = {"sub": sub, "username": sub, "roles": list(roles)}
        return token

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="cmltui-ccm-sim-"))
        tls = await asyncio.to_thread(make_tls, self._tmp)
        self.ca_file = tls.ca_file
        app = web.Application()
        base = "/api/workers/region/{region}/workers"
        app.router.add_get(base, self._list)
        app.router.add_get(base + "/{worker_id}", self._detail)
        app.router.add_get(base + "/{worker_id}/idle-status", self._idle_status)
        app.router.add_post(base + "/{worker_id}/idle-detection/{verb}", self._idle)
        app.router.add_post(base + "/{worker_id}/{verb:stop|start}", self._power)
        app.router.add_get("/api/labs/region/{region}/workers/{worker_id}/labs", self._labs)
        app.router.add_get("/api/events/stream", self._stream)
        self.lab_licence = ccm_lab_licence.add_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0, ssl_context=tls.server)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self._tasks = [
            asyncio.create_task(self._ticker(), name="ccm-sim-tick"),
            asyncio.create_task(self._heartbeats(), name="ccm-sim-heartbeat"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.lab_licence is not None:
            await self.lab_licence.stop()
        self.drop_streams()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    async def __aenter__(self) -> CcmSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- faults -------------------------------------------------------------------------------

    def drop_streams(self) -> None:
        """Cut every stream connection without a word (a proxy or network drop)."""
        for client in list(self._clients):
            client.queue.put_nowait(None)
            transport = client.request.transport
            if transport is not None:
                transport.abort()
        self._clients.clear()

    def session_expired(self) -> None:
        """What `events_controller.py` sends when the session behind a stream has expired,
        then it closes the stream."""
        self.send_raw(b"event: auth.session.expired\ndata: {}\n\n", close=True)

    def shutdown_event(self) -> None:
        """`system.sse.shutdown`, as `SSEEventRelayHostedService.stop_async` broadcasts it."""
        self.broadcast(
            Outgoing(
                "system.sse.shutdown", {"message": "SSE relay shutting down"}, "sse-event-relay"
            )
        )
        for client in list(self._clients):
            client.queue.put_nowait(None)

    def error_event(self, message: str) -> None:
        """`event: error` with `{"error": …}` and no envelope, as `events_controller.py` sends
        when its generator fails; the stream ends after it."""
        self.send_raw(f"event: error\ndata: {json.dumps({'error': message})}\n\n".encode(), True)

    def malformed_frame(self) -> None:
        self.send_raw(b'event: worker.snapshot\ndata: {"type": "worker.snap\n\n')

    def send_raw(self, frame: bytes, close: bool = False) -> None:
        """Any bytes to every stream client (a poisoned event, say), then close if asked."""
        for client in list(self._clients):
            client.queue.put_nowait(frame)
            if close:
                client.queue.put_nowait(None)

    def unavailable_for(self, seconds: float) -> None:
        """Drop the streams and answer new ones 503 for a while (a restart behind a proxy)."""
        self.unavailable_until = time.monotonic() + seconds
        self.drop_streams()

    def rotate_token(self) -> str:
        """A new admin token; the old one is rejected from now on (an expired JWT)."""
        claims = self.users.pop(self.token)
        self.token = "ccm-sim-" + secrets.token_urlsafe(24)
        self.users[self.token] = claims
        return self.token

    # --- events -------------------------------------------------------------------------------

    def broadcast(self, event: Outgoing) -> None:
        """`application/services/sse_event_relay.py`: wrap in the envelope, stamped with the
        broadcast time (`isoformat() + "Z"`), and queue for every connected client."""
        envelope = {
            "type": event.type,
            "source": event.source,
            "time": shapes.event_iso(self.clock.now()),
            "data": event.data,
        }
        frame = f"event: {event.type}\ndata: {json.dumps(envelope)}\n\n".encode()
        for client in list(self._clients):
            client.queue.put_nowait(frame)

    def emit(self, events: list[Outgoing]) -> None:
        for event in events:
            self.broadcast(event)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                self.emit(self.model.advance(self.clock.now()))
            except Exception:  # the simulator must survive a bad tick
                log.exception("ccm simulator tick failed")

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.heartbeat_s / 4))
            now = time.monotonic()
            for client in list(self._clients):
                if now - client.last_sent >= self.heartbeat_s:
                    beat = json.dumps({"timestamp": asyncio.get_running_loop().time()})
                    client.queue.put_nowait(f"event: heartbeat\ndata: {beat}\n\n".encode())

    # --- auth and parameters ------------------------------------------------------------------

    def user(self, request: web.Request, *, admin: bool = False) -> dict[str, Any]:
        """`api/dependencies.py`: `get_current_user` (401), then `require_roles("admin")` (403).
        FastAPI resolves these before it validates the path, so they come before a 422."""
        header = request.headers.get("Authorization", "")
        bearer = header.startswith("Bearer ")
        user = self.users.get(header.removeprefix("Bearer ")) if bearer else None
        if user is None:
            detail = "Invalid or expired bearer token." if header else "Not authenticated."
            raise json_error(401, shapes.http_exception(detail))
        if admin and ADMIN_ROLE not in user["roles"]:
            raise json_error(403, shapes.http_exception("Requires one of roles: admin"))
        return user

    def path_region(self, request: web.Request) -> str:
        """The path's `aws_region` is upstream's `AwsRegion` enum: anything else is a 422."""
        region = request.match_info["region"]
        if region not in shapes.UPSTREAM_REGIONS:
            msg = "Input should be " + " or ".join(f"'{r}'" for r in shapes.UPSTREAM_REGIONS)
            raise json_error(422, shapes.validation_error(("path", "aws_region"), msg, region))
        return region

    def path_worker(self, request: web.Request, missing: int = 404) -> CcmWorker:
        """The worker by id; upstream's handlers look it up by id alone, whatever the region.
        Idle routes answer 404 for an unknown id, stop/start and labs 400 (their `bad_request`)."""
        worker_id = request.match_info["worker_id"]
        worker = self.model.workers.get(worker_id)
        if worker is None:
            title = "Not Found" if missing == 404 else "Bad Request"
            detail = (
                f"Worker {worker_id} not found"
                if missing == 404
                else f"CML Worker not found: {worker_id}"
            )
            raise json_error(missing, shapes.problem_details(missing, title, detail))
        return worker

    def count(self, route: str) -> None:
        self.requests[route] = self.requests.get(route, 0) + 1

    # --- routes -------------------------------------------------------------------------------

    async def _list(self, request: web.Request) -> web.Response:
        self.user(request)
        region = self.path_region(request)
        self.count("list")
        if self.list_body is not None:
            return web.Response(body=self.list_body, content_type="application/json")
        now = self.clock.now()
        body = [
            self.model.snapshot(w, now) for w in self.model.workers.values() if w.region == region
        ]
        return web.json_response(body)

    async def _detail(self, request: web.Request) -> web.Response:
        self.user(request)
        self.path_region(request)
        return web.json_response(self.model.snapshot(self.path_worker(request), self.clock.now()))

    async def _idle_status(self, request: web.Request) -> web.Response:
        self.user(request)
        self.path_region(request)
        self.count("idle-status")
        worker = self.path_worker(request)
        return web.json_response(self.model.idle_status(worker, self.clock.now()))

    async def _labs(self, request: web.Request) -> web.Response:
        self.user(request)
        self.path_region(request)
        self.count("labs")
        return web.json_response(self.model.labs(self.path_worker(request, missing=400)))

    async def _idle(self, request: web.Request) -> web.Response:
        user = self.user(request, admin=True)
        self.path_region(request)
        verb = request.match_info["verb"]
        if verb not in ("enable", "disable"):
            raise web.HTTPNotFound()
        worker = self.path_worker(request)
        self.count(f"idle-detection/{verb}")
        answer, events = self.model.set_idle_detection(
            worker, verb == "enable", shapes.public_user(user), self.clock.now()
        )
        self.emit(events)
        self.after_action_hook()
        return self._answer(answer)

    async def _power(self, request: web.Request) -> web.Response:
        self.user(request, admin=True)
        self.path_region(request)
        worker = self.path_worker(request, missing=400)
        self.count(request.match_info["verb"])
        change = self.model.stop if request.match_info["verb"] == "stop" else self.model.start
        try:
            events = change(worker, None, self.clock.now())  # the route passes no user
        except ValueError as exc:
            raise json_error(400, shapes.problem_details(400, "Bad Request", str(exc))) from None
        self.emit(events)
        self.after_action_hook()
        return self._answer(True)

    def _answer(self, body: Any) -> web.Response:
        if self.action_body is not None:
            return web.Response(body=self.action_body, content_type="application/json")
        return web.json_response(body)

    def after_action_hook(self) -> None:
        if self.after_action is not None:
            self.after_action()

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        self.stream_requests += 1
        if self.reject_connects > 0:
            self.reject_connects -= 1
            raise json_error(401, shapes.http_exception("Invalid or expired bearer token."))
        if time.monotonic() < self.unavailable_until:
            raise web.HTTPServiceUnavailable(text="restarting")
        user = self.user(request)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        client = _Client(request, response)
        self._clients.add(client)
        self.connects += 1
        hello = {"status": "connected", "user": user["username"], "client_id": secrets.token_hex(8)}
        client.queue.put_nowait(f"event: connected\ndata: {json.dumps(hello)}\n\n".encode())
        if self.expire_after_connect:
            client.queue.put_nowait(b"event: auth.session.expired\ndata: {}\n\n")
        if self.close_after_connect or self.expire_after_connect:
            client.queue.put_nowait(None)
        else:
            now = self.clock.now()  # initial snapshots go to every client, as the relay does
            self.emit(
                [
                    self.model.snapshot_event(w, now, "initial")
                    for w in self.model.workers.values()
                    if w.id not in self.skip_initial
                ]
            )
        try:
            while True:
                frame = await client.queue.get()
                if frame is None:
                    break
                await response.write(frame)
                client.last_sent = time.monotonic()
                kind = frame.split(b"\n", 1)[0].removeprefix(b"event: ").decode(errors="replace")
                self.sent[kind] = self.sent.get(kind, 0) + 1
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._clients.discard(client)
        with contextlib.suppress(Exception):
            await response.write_eof()
        return response

    def info_text(self, token_hint: str = "CMLTUI_CCM_TOKEN") -> str:
        """What `cmltui simulate --ccm` prints."""
        lines = [
            "cmltui simulated CML Cloud Manager",
            "",
            f"URL:      {self.url}",
            f"CA file:  {self.ca_file}",
            f"Token:    {self.token}   (simulator only)",
            f"Region:   {self.region}",
            f"Workers:  {len(self.model.workers)}",
            "",
            "Point cmltui at it:",
            f"  export {token_hint}={self.token}",
            f"  export CMLTUI_CCM_CA_BUNDLE={self.ca_file}",
            f"  {command('run', '--ccm', self.url)}",  # runs pasted: no activated venv needed
            "",
            "Or any HTTP client:",
            f"  curl --cacert {self.ca_file} -H 'Authorization: Bearer {self.token}' "
            f"{self.url}/api/workers/region/{self.region}/workers",
            f"  curl -N --cacert {self.ca_file} -H 'Authorization: Bearer {self.token}' "
            f"{self.url}/api/events/stream",
            "",
        ]
        return "\n".join(lines)
