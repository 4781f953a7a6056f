"""`CcmSimulator`: a CML Cloud Manager test double over HTTPS on loopback (aiohttp).

It serves the routes cmltui uses, shaped as upstream's controllers serve them:
`GET /api/workers/region/{r}/workers`, `POST .../workers/{id}/idle-detection/enable|disable`,
`POST .../workers/{id}/stop|start`, and the event stream `GET /api/events/stream`: a `connected`
frame, then one `worker.snapshot` per worker broadcast to every client (as upstream does), then
events, with a `heartbeat` only after `heartbeat_s` of silence. Faults can be injected: drop the
streams, `auth.session.expired`, `system.sse.shutdown`, 401 on the next connects, 503 for a
while, a malformed frame. Accepts `Authorization: Bearer <token>`; `rotate_token()` makes the
old one invalid.
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
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from cmltui.clock import Clock, SystemClock
from cmltui.sim import ccm_lab_licence
from cmltui.sim.ccm_http import problem
from cmltui.sim.ccm_model import CcmModel, CcmWorker, Outgoing, upstream_iso
from cmltui.sim.tls import make_tls

log = logging.getLogger(__name__)


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
    ) -> None:
        self.clock = clock or SystemClock()
        self.host = host
        self.region = region
        self.heartbeat_s = heartbeat_s
        self.tick_s = tick_s
        self.token = token or "ccm-sim-" + secrets.token_urlsafe(24)
        self.model = CcmModel(workers, seed, self.clock.now(), region)
        self.port = 0
        self.ca_file = Path()
        self.reject_connects = 0  # fault: answer this many stream requests with 401
        self.unavailable_until = 0.0  # fault: streams answer 503 until this monotonic time
        self.skip_initial: set[str] = set()  # fault: worker ids left out of the initial set
        self.stream_requests = 0
        self.connects = 0
        self.sent: dict[str, int] = {}  # event type -> frames written to clients
        self.after_action: Callable[[], None] | None = None
        self.licence_poll_s = 5.0  # how long a registration job takes to see CML complete it
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

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="cmltui-ccm-sim-"))
        tls = await asyncio.to_thread(make_tls, self._tmp)
        self.ca_file = tls.ca_file
        app = web.Application()
        base = "/api/workers/region/{region}/workers"
        app.router.add_get(base, self._list)
        app.router.add_get(base + "/{worker_id}", self._detail)
        app.router.add_post(base + "/{worker_id}/idle-detection/{verb}", self._idle)
        app.router.add_post(base + "/{worker_id}/{verb:stop|start}", self._power)
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
        """What upstream sends when the session behind a stream has expired, then closes."""
        for client in list(self._clients):
            client.queue.put_nowait(b"event: auth.session.expired\ndata: {}\n\n")
            client.queue.put_nowait(None)

    def shutdown_event(self) -> None:
        """`system.sse.shutdown`, as upstream's relay broadcasts on stop, then close."""
        self.broadcast(
            Outgoing(
                "system.sse.shutdown", {"message": "SSE relay shutting down"}, "sse-event-relay"
            )
        )
        for client in list(self._clients):
            client.queue.put_nowait(None)

    def malformed_frame(self) -> None:
        for client in list(self._clients):
            client.queue.put_nowait(b'event: worker.snapshot\ndata: {"type": "worker.snap\n\n')

    def unavailable_for(self, seconds: float) -> None:
        """Drop the streams and answer new ones 503 for a while (a restart behind a proxy)."""
        self.unavailable_until = time.monotonic() + seconds
        self.drop_streams()

    def rotate_token(self) -> str:
        """A new token; the old one is rejected from now on (an expired JWT)."""
        self.token = "ccm-sim-" + secrets.token_urlsafe(24)
        return self.token

    # --- events -------------------------------------------------------------------------------

    def broadcast(self, event: Outgoing) -> None:
        """Upstream's relay: wrap in the envelope and queue for every connected client."""
        envelope = {
            "type": event.type,
            "source": event.source,
            "time": upstream_iso(self.clock.now()),
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

    # --- routes -------------------------------------------------------------------------------

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def _worker(self, request: web.Request) -> CcmWorker:
        worker = self.model.workers.get(request.match_info["worker_id"])
        if worker is None or worker.region != request.match_info["region"]:
            raise problem(404, "Not Found", f"Worker {request.match_info['worker_id']} not found")
        return worker

    async def _list(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            raise problem(401, "Unauthorized", "Not authenticated")
        now = self.clock.now()
        region = request.match_info["region"]
        body = [
            self.model.snapshot(w, now) for w in self.model.workers.values() if w.region == region
        ]
        return web.json_response(body)

    async def _detail(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            raise problem(401, "Unauthorized", "Not authenticated")
        return web.json_response(self.model.snapshot(self._worker(request), self.clock.now()))

    async def _idle(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            raise problem(401, "Unauthorized", "Not authenticated")
        verb = request.match_info["verb"]
        if verb not in ("enable", "disable"):
            raise problem(404, "Not Found", "no such route")
        worker = self._worker(request)
        answer, events = self.model.set_idle_detection(
            worker, verb == "enable", "ccm-sim-user", self.clock.now()
        )
        self.emit(events)
        self.after_action_hook()
        return web.json_response(answer)

    async def _power(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            raise problem(401, "Unauthorized", "Not authenticated")
        worker = self._worker(request)
        change = self.model.stop if request.match_info["verb"] == "stop" else self.model.start
        try:
            events = change(worker, "ccm-sim-user", self.clock.now())
        except ValueError as exc:
            raise problem(400, "Bad Request", str(exc)) from None
        self.emit(events)
        self.after_action_hook()
        return web.json_response(True)

    def after_action_hook(self) -> None:
        if self.after_action is not None:
            self.after_action()

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        self.stream_requests += 1
        if self.reject_connects > 0:
            self.reject_connects -= 1
            raise problem(401, "Unauthorized", "Not authenticated")
        if time.monotonic() < self.unavailable_until:
            raise web.HTTPServiceUnavailable(text="restarting")
        if not self.authorized(request):
            raise problem(401, "Unauthorized", "Not authenticated")
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
        hello = {"status": "connected", "user": "ccm-sim-user", "client_id": secrets.token_hex(8)}
        client.queue.put_nowait(f"event: connected\ndata: {json.dumps(hello)}\n\n".encode())
        now = self.clock.now()  # initial snapshots go to every client, as upstream's relay does
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
                kind = frame.split(b"\n", 1)[0].removeprefix(b"event: ").decode()
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
            f"  cmltui run --ccm {self.url}",
            "",
            "Or any HTTP client:",
            f"  curl --cacert {self.ca_file} -H 'Authorization: Bearer {self.token}' "
            f"{self.url}/api/workers/region/{self.region}/workers",
            f"  curl -N --cacert {self.ca_file} -H 'Authorization: Bearer {self.token}' "
            f"{self.url}/api/events/stream",
            "",
        ]
        return "\n".join(lines)
