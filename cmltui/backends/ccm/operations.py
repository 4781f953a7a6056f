"""The lab and licence operations through a CML Cloud Manager, and a command's readiness.

Upstream's routes: `POST /api/labs/region/{r}/workers/{id}/labs/{lab_id}/start|stop|wipe`
(200 once CML did it; 400 with the reason otherwise; the lab's new state follows later in
`worker.labs.updated`), `POST /api/workers/region/{r}/workers/{id}/license` with
`{license_token, reregister}` and `DELETE` on the same path (202 both: a background job runs
it; upstream's controller says 200 for the `DELETE`, its command answers 202). Each goes
through the same precondition rule, read-only mode, in-flight mark and audit lines as a pause.

A registration's job reports `worker.license.registration.started`, then `…completed` or
`…failed`, each end with a snapshot: it waits for the outcome, as the dashboard and a script
both want it; the token goes into the request body only, and is cut out of anything Cloud
Manager sends back while the registration runs (upstream repeats CML's reason, which may repeat
the token).

A deregistration's job (`application/jobs/license_deregistration_job.py`) broadcasts no licence
event: its started, completed and failed domain events have no SSE handler, and on success it
sends only CML's `worker.metrics.updated` (no licence, no snapshot). So the 202 is the answer:
it is published at once as "deregistered", accepted, and its "unregistered" is held by the
settle rule until a snapshot agrees or outlives it (a failed job shows only there).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

from cmltui.api.backend import ActionFailed, ActionRefused
from cmltui.api.events import ActivityEvent, FleetSnapshot, LabChanged, LicenceChanged
from cmltui.audit import AuditUnavailable
from cmltui.backends.ccm.api import CcmApi, CcmAuthError, CcmError, CcmRefused, worker_path
from cmltui.domain.rules import LAB_ACTIONS, ActionKind, LabVerb, verb_of

ACCEPTED: Final = "accepted by Cloud Manager (202); its job runs on"
_ROUTES: Final[dict[str, tuple[str, str, str]]] = {
    "pause": ("POST", "stop", ""),
    "resume": ("POST", "start", ""),
    "register_licence": ("POST", "license", " (the token in the body only)"),
    "deregister_licence": ("DELETE", "license", ""),
}


class CcmOperations:
    """What `CcmBackend` adds for labs, licences and commands. A mixin: the state it reads
    (entries, audit log, clock, timing, in-flight marks, channels) is the backend's own."""

    _secrets: set[str]

    async def lab_action(self, worker_id: str, lab_id: str, verb: LabVerb) -> LabChanged:
        kind = LAB_ACTIONS[verb]
        known = self.fleet.entries.get(worker_id)
        lab = next((lab for lab in known.labs or () if lab.id == lab_id), None) if known else None
        entry = self._for_action(worker_id, kind, lab)
        title = lab.title if lab else None
        detail: dict[str, Any] = {"lab_id": lab_id, "lab_title": title, "via": self.label}
        await self._audited(
            worker_id,
            entry.region,
            kind,
            detail,
            lambda api: api.lab_action(entry.region, worker_id, lab_id, verb),
        )
        event = LabChanged(
            worker_id=worker_id,
            lab_id=lab_id,
            lab_title=title,  # as Cloud Manager last listed it
            action=verb,
            lab_state=None,  # Cloud Manager says it with its next `worker.labs.updated`
            changed_by=self.operator,
            changed_at=self.clock.now(),
        )
        self._accept(event)
        return event

    async def register_licence(
        self, worker_id: str, token: str, *, reregister: bool = False
    ) -> LicenceChanged:
        entry = self._for_action(worker_id, "register_licence")
        detail: dict[str, Any] = {"reregister": reregister, "via": self.label}
        self._secrets.add(token)
        try:
            with self._licence_events(worker_id) as events:
                await self._audited(
                    worker_id,
                    entry.region,
                    "register_licence",
                    detail,
                    lambda api: api.register_licence(
                        entry.region, worker_id, token, reregister=reregister
                    ),
                )
                return await self._registration_outcome(worker_id, events)
        finally:
            self._secrets.discard(token)

    async def _registration_outcome(
        self, worker_id: str, events: asyncio.Queue[LicenceChanged]
    ) -> LicenceChanged:
        """The job's outcome (completed, or failed: raised), or its start when it is still at
        it after the wait; a start Cloud Manager did not report stands in as accepted."""
        started: LicenceChanged | None = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timing.licence_timeout):
                while True:
                    event = await events.get()
                    if event.step == "registration completed":
                        return event
                    if event.step == "registration failed":
                        why = event.detail or "no reason given"  # the token cut out already
                        name = self.fleet.name(worker_id)
                        raise ActionFailed(f"{name}: register licence failed: {why}")
                    started = started or event
        if started is None:
            started = self._licence_stand_in(worker_id, "registration started")
        return started

    async def deregister_licence(self, worker_id: str) -> LicenceChanged:
        entry = self._for_action(worker_id, "deregister_licence")
        detail: dict[str, Any] = {"via": self.label}
        await self._audited(
            worker_id,
            entry.region,
            "deregister_licence",
            detail,
            lambda api: api.deregister_licence(entry.region, worker_id),
        )
        # No event will tell the job's end (see the module's docstring): the 202 stands for it.
        return self._licence_stand_in(worker_id, "deregistered")

    def _licence_stand_in(self, worker_id: str, step: Any) -> LicenceChanged:
        """What Cloud Manager accepted and has not reported yet, as its event would say it."""
        event = LicenceChanged(
            worker_id=worker_id, step=step, at=self.clock.now(), by=self.operator, detail=ACCEPTED
        )
        self._accept(event)
        return event

    @contextlib.contextmanager
    def _licence_events(self, worker_id: str) -> Iterator[asyncio.Queue[LicenceChanged]]:
        """The worker's licence events as they are published, while the block runs."""
        queue: asyncio.Queue[LicenceChanged] = asyncio.Queue()

        def seen(event: ActivityEvent) -> None:
            if isinstance(event, LicenceChanged) and event.worker_id == worker_id:
                queue.put_nowait(event)

        self.activity.add(seen)
        try:
            yield queue
        finally:
            self.activity.remove(seen)

    async def _audited(
        self,
        worker_id: str,
        region: str,
        action: ActionKind,
        detail: dict[str, Any],
        call: Callable[[CcmApi], Awaitable[Any]],
        already: Callable[[], str] | None = None,
    ) -> None:
        """The intent line, the call, the result line (the same for every action sent to Cloud
        Manager); the worker is in flight meanwhile. A call that returns False found nothing to
        do: with `already` (which says why), that is a refusal."""
        api = self._open_api()
        verb = verb_of(action)
        audit = {
            "worker_id": worker_id,
            "worker_name": self.fleet.name(worker_id),
            "region": region,
            "operator": self.operator,
            "action": action,
        }

        def result(outcome: str, error: str | None = None) -> None:
            self.audit.record(
                at=self.clock.now(), result=outcome, error=error, detail=detail, **audit
            )

        with self._busy(worker_id):
            try:  # the durable intent line first: if it cannot be written, nothing is sent
                self.audit.record(
                    at=self.clock.now(), result="intent", detail=detail, required=True, **audit
                )
            except AuditUnavailable as exc:
                raise ActionRefused(f"{verb} not sent: {exc}") from exc
            try:
                changed = await call(api)
            except CcmRefused as exc:  # its text has what the request sent cut out
                why = str(exc) or "refused"
                result("refused", why)
                name = self.fleet.name(worker_id)
                raise ActionRefused(f"{name}: {verb} refused: {why}") from None
            except CcmAuthError:
                self._set_status("error", "token rejected")
                result("failed", "token rejected")
                raise ActionFailed("Cloud Manager rejected the token") from None
            except CcmError as exc:
                result("failed", str(exc))
                raise ActionFailed(f"{self.fleet.name(worker_id)}: {verb} failed: {exc}") from None
            except asyncio.CancelledError:
                result("failed", "cancelled before Cloud Manager answered")
                raise
            except Exception as exc:  # never an intent line without its result
                result("failed", type(exc).__name__)
                raise ActionFailed(f"{verb} failed: {exc}") from None
            if changed is False and already is not None:
                why = already()
                result("refused", why)
                raise ActionRefused(why)
            result("ok")

    @contextlib.contextmanager
    def _busy(self, worker_id: str) -> Iterator[None]:
        """The worker has an action in flight while the block runs (a second is refused)."""
        already = worker_id in self._in_flight
        self._in_flight.add(worker_id)
        try:
            yield
        finally:
            if not already:
                self._in_flight.discard(worker_id)

    # --- a command ------------------------------------------------------------------------------

    async def prepare_actions(self) -> FleetSnapshot:
        """The worker lists, then the stream (Cloud Manager's events answer the actions),
        waited for briefly: without it an action's event is its stand-in."""
        snapshot = await self.snapshot_once()
        await self.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timing.initial_set_timeout
        while not self._connected and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return snapshot

    def request_text(
        self,
        kind: ActionKind,
        worker_id: str,
        *,
        lab_id: str | None = None,
        enable: bool | None = None,
    ) -> str:
        entry = self.fleet.entries.get(worker_id)
        region = entry.region if entry is not None else "?"
        if kind in LAB_ACTIONS.values():
            verb = kind.removesuffix("_lab")
            return (
                f"Cloud Manager POST /api/labs/region/{region}/workers/{worker_id}/labs/"
                f"{lab_id or '{lab_id}'}/{verb}"
            )
        if kind == "toggle_idle_detection":
            side = "enable|disable" if enable is None else "enable" if enable else "disable"
            method, route, note = "POST", f"idle-detection/{side}", ""
        else:
            method, route, note = _ROUTES[kind]
        return f"Cloud Manager {method} {worker_path(region, worker_id, route)}{note}"
