"""The Cloud Manager double's lab and licence routes, as upstream's controllers and jobs answer.

- `POST /api/labs/region/{r}/workers/{id}/labs/{lab_id}/start|stop|wipe` (`LabsController`,
  `ControlLabCommand`): 200 `{lab_id, action, status: "success"}`; a worker it does not know or
  one with no HTTPS endpoint (not running) is a 400 (upstream's `bad_request`, not a 404).
- `POST /api/workers/region/{r}/workers/{id}/license` with `{license_token, reregister}`
  (`RegisterCMLWorkerLicenseCommand`): 404 for an unknown worker, 400 when it is not running,
  else 202 and a background job (`LicenseRegistrationJob`): `worker.license.registration.started`
  at once, then `…failed` (CML refused: a token `bad` or `bad-…`, a registration already under
  way, a registered product without `reregister`; the message wraps CML's, which repeats the
  token) or, one poll later, `…completed`; each end followed by a snapshot.
- `DELETE` on the same path (`LicenseDeregistrationJob`): 202, then `worker.license.deregistered`
  and a snapshot when the worker was registered (nothing when it was not: CML's 400).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any, Protocol

from aiohttp import web

from cmltui.clock import Clock
from cmltui.sim.ccm_http import problem
from cmltui.sim.ccm_model import CcmModel, CcmWorker, Outgoing

LICENCE_SOURCE = "cml-cloud-manager"
SMART_ACCOUNT, VIRTUAL_ACCOUNT = "Example Corp", "Network Labs"


class Host(Protocol):
    """What the routes need of the simulator that serves them."""

    clock: Clock
    model: CcmModel
    licence_poll_s: float

    def authorized(self, request: web.Request) -> bool: ...

    def emit(self, events: list[Outgoing]) -> None: ...

    def after_action_hook(self) -> None: ...


def add_routes(app: web.Application, sim: Host) -> LabAndLicenceRoutes:
    """Serve the routes on `app`; the returned object's `stop()` ends jobs still running."""
    routes = LabAndLicenceRoutes(sim)
    lab = "/api/labs/region/{region}/workers/{worker_id}/labs/{lab_id}/{verb:start|stop|wipe}"
    app.router.add_post(lab, routes.lab)
    licence = "/api/workers/region/{region}/workers/{worker_id}/license"
    app.router.add_post(licence, routes.register)
    app.router.add_delete(licence, routes.deregister)
    return routes


class LabAndLicenceRoutes:
    def __init__(self, sim: Host) -> None:
        self.sim = sim
        self.jobs: dict[str, asyncio.Task[None]] = {}  # the registration job of each worker
        self._all_jobs: set[asyncio.Task[None]] = set()
        self.lab_calls: list[tuple[str, str, str]] = []  # (worker id, lab id, verb), for tests

    async def lab(self, request: web.Request) -> web.Response:
        sim = self.sim
        if not sim.authorized(request):
            raise problem(401, "Unauthorized", "Not authenticated")
        worker_id = request.match_info["worker_id"]
        worker = sim.model.workers.get(worker_id)
        if worker is None or worker.region != request.match_info["region"]:
            raise problem(400, "Bad Request", f"Worker {worker_id} not found")
        if worker.status != "running":
            raise problem(
                400, "Bad Request", f"Worker {worker_id} has no HTTPS endpoint configured"
            )
        lab_id, verb = request.match_info["lab_id"], request.match_info["verb"]
        self.lab_calls.append((worker_id, lab_id, verb))
        sim.after_action_hook()
        return web.json_response({"lab_id": lab_id, "action": verb, "status": "success"})

    async def register(self, request: web.Request) -> web.Response:
        worker = self._worker(request)
        try:
            body = await request.json()
        except ValueError:
            raise problem(400, "Bad Request", "the body is not JSON") from None
        token = body.get("license_token") if isinstance(body, dict) else None
        reregister = body.get("reregister", False) if isinstance(body, dict) else False
        if not isinstance(token, str) or not isinstance(reregister, bool):
            raise problem(400, "Bad Request", "license_token: a string is required")
        if worker.status != "running":
            raise problem(
                400,
                "Bad Request",
                f"Worker must be running to register license (current: {worker.status})",
            )
        busy = worker.id in self.jobs and not self.jobs[worker.id].done()
        job = asyncio.create_task(self._register(worker, token, reregister, busy))
        self._all_jobs.add(job)
        job.add_done_callback(self._all_jobs.discard)
        if not busy:
            self.jobs[worker.id] = job
        return self._accepted(worker, "License registration initiated", "license_reg")

    async def deregister(self, request: web.Request) -> web.Response:
        worker = self._worker(request)
        if worker.licence == "registered":
            worker.licence = "unregistered"
            now = self.sim.clock.now()
            data = {
                "worker_id": worker.id,
                "deregistered_at": now.isoformat(),
                "initiated_by": "ccm-sim-user",
            }
            self.sim.emit(
                [
                    Outgoing("worker.license.deregistered", data, LICENCE_SOURCE),
                    self.sim.model.snapshot_event(worker, now, "license_deregistered"),
                ]
            )
        return self._accepted(worker, "License deregistration initiated", "license_dereg")

    async def stop(self) -> None:
        for job in list(self._all_jobs):
            job.cancel()
        for job in list(self._all_jobs):
            with contextlib.suppress(asyncio.CancelledError):
                await job

    # --- the registration job -------------------------------------------------------------

    async def _register(self, worker: CcmWorker, token: str, reregister: bool, busy: bool) -> None:
        sim = self.sim
        started = sim.clock.now()
        base = {"worker_id": worker.id, "worker_name": worker.spec.name}
        sim.emit(
            [
                Outgoing(
                    "worker.license.registration.started",
                    {**base, "started_at": started.isoformat(), "initiated_by": "ccm-sim-user"},
                    LICENCE_SOURCE,
                )
            ]
        )
        refusal = _cml_refusal(worker, token, reregister, busy)
        if refusal is None:
            await asyncio.sleep(sim.licence_poll_s)  # the job polls CML's licensing
            worker.licence = "registered"
            end = Outgoing(
                "worker.license.registration.completed",
                {
                    **base,
                    "registration_status": "COMPLETED",
                    "smart_account": SMART_ACCOUNT,
                    "virtual_account": VIRTUAL_ACCOUNT,
                    "completed_at": sim.clock.now().isoformat(),
                },
                LICENCE_SOURCE,
            )
            reason = "license_registered"
        else:
            end = Outgoing(
                "worker.license.registration.failed",
                {
                    **base,
                    "error_message": refusal,
                    "error_code": None,
                    "failed_at": sim.clock.now().isoformat(),
                },
                LICENCE_SOURCE,
            )
            reason = "license_registration_failed"
        sim.emit([end, sim.model.snapshot_event(worker, sim.clock.now(), reason)])

    # --- helpers --------------------------------------------------------------------------

    def _worker(self, request: web.Request) -> CcmWorker:
        sim = self.sim
        if not sim.authorized(request):
            raise problem(401, "Unauthorized", "Not authenticated")
        worker = sim.model.workers.get(request.match_info["worker_id"])
        if worker is None or worker.region != request.match_info["region"]:
            raise problem(404, "Not Found", f"Worker {request.match_info['worker_id']} not found")
        return worker

    def _accepted(self, worker: CcmWorker, message: str, kind: str) -> web.Response:
        body: dict[str, Any] = {
            "message": message,
            "worker_id": worker.id,
            "job_id": f"{kind}_{worker.id}_{secrets.randbelow(10**9)}",
            "status": "pending",
            "note": "Monitor SSE events for completion status",
        }
        self.sim.after_action_hook()
        return web.json_response(body, status=202)


def _cml_refusal(worker: CcmWorker, token: str, reregister: bool, busy: bool) -> str | None:
    """What upstream's job reports when CML refuses the registration (its exception's text)."""
    if busy:
        return "Cannot register now: A registration is already in progress."
    if token == "bad" or token.startswith("bad-"):
        return f"Invalid license token: Invalid registration token {token!r}: it was not accepted."
    if worker.licence == "registered" and not reregister:
        return "Cannot register now: The product is already registered; ask for reregistration."
    return None
