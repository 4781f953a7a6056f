"""The Cloud Manager double's lab and licence routes, as upstream's controllers and jobs answer.

- `POST /api/labs/region/{r}/workers/{id}/labs/{lab_id}/start|stop|wipe` (`LabsController`,
  `ControlLabCommand`): 200 `{lab_id, action, status: "success"}`; a worker it does not know,
  one with no HTTPS endpoint (not running) or a lab CML does not have is a 400 (upstream's
  `bad_request`, never a 404). The lab's new state is what upstream's next labs refresh finds:
  the double sends its `worker.labs.updated` at once.
- `POST /api/workers/region/{r}/workers/{id}/license` with `{license_token, reregister}`
  (`RegisterCMLWorkerLicenseCommand`, admin only): 404 for an unknown worker, 400 when it is
  not running, else 202 and a background job (`LicenseRegistrationJob`):
  `worker.license.registration.started` at once, then `…failed` (CML refused: a token `bad` or
  `bad-…`, a registration already under way, a registered product without `reregister`; the
  message wraps CML's, which repeats the token) or, one poll later, `…completed`; each end
  followed by a snapshot.
- `DELETE` on the same path (`DeregisterCMLWorkerLicenseCommand`, admin only): 404 for an
  unknown worker, else 202 whatever its state (the command checks nothing more) and a job
  (`application/jobs/license_deregistration_job.py`). Its started, completed and failed domain
  events have no SSE handler (`application/events/domain/cml_worker_license_events.py` has
  only the legacy `worker.license.deregistered`, which nothing sends). A worker not running (no
  endpoint) or not registered (CML's 400, "Already deregistered") fails without a word; else,
  one CML call later, the licence is cleared and the CML sync's `worker.metrics.updated` is
  all that is sent (`update_cml_metrics`: no licence in it, no snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any, Protocol

from aiohttp import web

from cmltui.clock import Clock
from cmltui.domain.settle import LAB_LEAVES
from cmltui.sim import ccm_shapes as shapes
from cmltui.sim.ccm_http import json_error
from cmltui.sim.ccm_model import CcmModel, CcmWorker, Outgoing


class Host(Protocol):
    """What the routes need of the simulator that serves them (`CcmSimulator`)."""

    clock: Clock
    model: CcmModel
    licence_poll_s: float

    def user(self, request: web.Request, *, admin: bool = False) -> dict[str, Any]: ...

    def path_region(self, request: web.Request) -> str: ...

    def path_worker(self, request: web.Request, missing: int = 404) -> CcmWorker: ...

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


def _bad_request(detail: str) -> web.HTTPException:
    return json_error(400, shapes.problem_details(400, "Bad Request", detail))


class LabAndLicenceRoutes:
    def __init__(self, sim: Host) -> None:
        self.sim = sim
        self.jobs: dict[str, asyncio.Task[None]] = {}  # the registration job of each worker
        self._all_jobs: set[asyncio.Task[None]] = set()
        self.lab_calls: list[tuple[str, str, str]] = []  # (worker id, lab id, verb), for tests
        self.deregistrations = 0  # `DELETE …/license` requests answered, for tests

    async def lab(self, request: web.Request) -> web.Response:
        sim = self.sim
        sim.user(request)  # `get_current_user`: any valid login
        sim.path_region(request)
        worker_id = request.match_info["worker_id"]
        worker = sim.model.workers.get(worker_id)
        if worker is None:
            raise _bad_request(f"Worker {worker_id} not found")
        if worker.status != "running":
            raise _bad_request(f"Worker {worker_id} has no HTTPS endpoint configured")
        lab_id, verb = request.match_info["lab_id"], request.match_info["verb"]
        if lab_id not in worker.labs:  # CML answers 404; upstream's client reports a failure
            raise _bad_request(f"Failed to {verb} lab {lab_id}")
        self.lab_calls.append((worker_id, lab_id, verb))
        sim.emit(sim.model.set_lab_state(worker, lab_id, LAB_LEAVES[verb], sim.clock.now()))
        sim.after_action_hook()
        return web.json_response({"lab_id": lab_id, "action": verb, "status": "success"})

    async def register(self, request: web.Request) -> web.Response:
        user = self.sim.user(request, admin=True)
        self.sim.path_region(request)
        worker = self.sim.path_worker(request)
        try:
            body = await request.json()
        except ValueError:
            raise _bad_request("the body is not JSON") from None
        token = body.get("license_token") if isinstance(body, dict) else None
        reregister = body.get("reregister", False) if isinstance(body, dict) else False
        if not isinstance(token, str) or not isinstance(reregister, bool):
            raise _bad_request("license_token: a string is required")
        if worker.status != "running":
            raise _bad_request(
                f"Worker must be running to register license (current: {worker.status})"
            )
        busy = worker.id in self.jobs and not self.jobs[worker.id].done()
        by = shapes.public_user(user)
        job = asyncio.create_task(self._register(worker, token, reregister, busy, by))
        self._all_jobs.add(job)
        job.add_done_callback(self._all_jobs.discard)
        if not busy:
            self.jobs[worker.id] = job
        return self._accepted(worker, "License registration initiated", "license_reg")

    async def deregister(self, request: web.Request) -> web.Response:
        self.sim.user(request, admin=True)
        self.sim.path_region(request)
        worker = self.sim.path_worker(request)
        self.deregistrations += 1
        job = asyncio.create_task(self._deregister(worker))
        self._all_jobs.add(job)
        job.add_done_callback(self._all_jobs.discard)
        return self._accepted(worker, "License deregistration initiated", "license_dereg")

    async def stop(self) -> None:
        for job in list(self._all_jobs):
            job.cancel()
        for job in list(self._all_jobs):
            with contextlib.suppress(asyncio.CancelledError):
                await job

    # --- the registration job -------------------------------------------------------------

    async def _register(
        self, worker: CcmWorker, token: str, reregister: bool, busy: bool, by: str | None
    ) -> None:
        sim = self.sim
        sim.emit([sim.model.licence_started(worker, by, sim.clock.now())])
        refusal = _cml_refusal(worker, token, reregister, busy)
        if refusal is None:
            await asyncio.sleep(sim.licence_poll_s)  # the job polls CML's licensing
        sim.emit(sim.model.licence_ended(worker, sim.clock.now(), error=refusal))

    async def _deregister(self, worker: CcmWorker) -> None:
        """`LicenseDeregistrationJob`: only its success is broadcast, as CML metrics."""
        if worker.status != "running" or worker.licence != "registered":
            return  # `fail_license_deregistration`: no SSE handler
        await asyncio.sleep(self.sim.licence_poll_s)  # CML's `DELETE /licensing/deregistration`
        if worker.status == "running":
            self.sim.emit([self.sim.model.licence_deregistered(worker, self.sim.clock.now())])

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
