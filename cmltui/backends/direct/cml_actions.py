"""The operator's actions on a worker's CML: stop, start or wipe a lab; register or deregister
its licence (README, "Labs and licences").

They share the AWS actions' guard (`Actions`): the one precondition rule, read-only mode, the
in-flight mark, the durable intent line before anything is sent, and the result line after.
Like a pause, a lab operation looks once more right before it is sent (the lab as CML has it
now, through the same rule), and reads the lab again right after: that state is held against
stale collections by the settle rule. A registration's state is read again at once and followed
until CML says it is done. The licence token goes into CML's request only: never into the
audit log, an event, a log line or a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Final

from cmltui.api.backend import ActionFailed, ActionRefused
from cmltui.api.events import (
    LabChanged,
    LicenceChanged,
    LicenceStep,
)
from cmltui.backends.direct.actions import Actions, LabShown
from cmltui.backends.direct.collector import apply_licensing, lab_summary
from cmltui.domain.rules import LAB_ACTIONS, ActionKind, LabVerb, action_refusal, verb_of
from cmltui.domain.secrets import cut_secrets
from cmltui.domain.settle import LAB_CONFIRMS, LAB_LEAVES, PendingWrite
from cmltui.domain.status import REGISTERED_STATES
from cmltui.domain.worker import CMLWorker
from cmltui.sources import cml_operations as ops
from cmltui.sources.cml_client import CMLClient, CMLError, CMLTarget

log = logging.getLogger(__name__)

TargetLookup = Callable[[str], CMLTarget | None]
REGISTRATION_FAILED: Final = frozenset({"FAILED", "EXPIRED", "RETRY_FAILED"})
"""Registration states CML's agent ends in when it could not register (as upstream reads them)."""


class CmlActions:
    def __init__(
        self,
        *,
        actions: Actions,
        cml: CMLClient,
        targets: TargetLookup,
        poll_seconds: float = 5.0,
        registration_timeout: float = 90.0,
    ) -> None:
        self.actions = actions
        self.cml = cml
        self.targets = targets
        self.poll_seconds = poll_seconds  # how often a registration under way is read again
        self.registration_timeout = registration_timeout

    # -- labs ----------------------------------------------------------------------------------

    async def lab_action(self, worker_id: str, lab_id: str, verb: LabVerb) -> LabChanged:
        """Stop, start or wipe one lab (the user has confirmed)."""
        actions = self.actions
        worker = actions.worker(worker_id)
        kind = LAB_ACTIONS[verb]
        shown = _lab_shown(worker, lab_id)
        detail: dict[str, object] = {"lab_id": lab_id, "lab_title": shown.title}
        with actions.guard([worker], kind, shown, detail):
            target = self._target(worker, kind)
            title = await self._last_look(worker, kind, target, lab_id, detail)
            detail["lab_title"] = title
            at = actions.clock.now()
            actions.intent(worker, kind, at, detail)
            try:
                await ops.lab_action(self.cml, target, lab_id, verb)
            except (ops.CMLRefused, CMLError) as exc:
                raise self._failed(worker, kind, exc, detail) from None
            state = await self._lab_now(worker, target, lab_id, verb)
            actions.read_soon(worker.key)
            actions.audit_line(worker, kind, "ok", at, detail={**detail, "lab_state": state})
            event = LabChanged(
                worker_id=worker.key,
                lab_id=lab_id,
                lab_title=title,
                action=verb,
                lab_state=state,
                changed_by=actions.operator_for(worker),
                changed_at=at,
            )
            actions.publish(event)
            return event

    async def _last_look(
        self,
        worker: CMLWorker,
        kind: ActionKind,
        target: CMLTarget,
        lab_id: str,
        detail: dict[str, object],
    ) -> str:
        """Read the lab right before sending and apply the rule to its state now; its title."""
        verb = verb_of(kind)
        try:
            lab = await self.cml.read_lab(target, lab_id)
        except CMLError as exc:
            message = f"{worker.name}: {verb} not sent: could not read the lab: {exc.message}"
            raise ActionFailed(message) from None
        if lab is None:
            message = f"{worker.name} has no lab {lab_id}; {verb} not sent"
            raise self._refused(worker, kind, message, detail)
        title = lab.lab_title or lab_id
        why = action_refusal(
            kind, name=worker.name, status=worker.status, lab_title=title, lab_state=lab.state
        )
        if why is not None:
            message = f"{why}; {verb} not sent (read right before sending)"
            raise self._refused(worker, kind, message, detail)
        return title

    async def _lab_now(
        self, worker: CMLWorker, target: CMLTarget, lab_id: str, verb: LabVerb
    ) -> str | None:
        """The lab read again at once; its state is held against stale collections."""
        at = self.actions.clock.now()
        try:
            lab = await self.cml.read_lab(target, lab_id)
        except CMLError as exc:
            log.info("lab %s of %s not read after the action: %s", lab_id, worker.name, exc)
            lab = None
        state = lab.state if lab is not None else None
        confirms = LAB_CONFIRMS[verb]
        held = state if state is not None and state in confirms else LAB_LEAVES[verb]
        worker.pending_lab_states[lab_id] = PendingWrite(held, at, confirms)
        if lab is not None and worker.cml.labs is not None:
            summary = lab_summary(lab, worker.cml.users)
            worker.cml.labs = [
                replace(summary, state=held) if known.id == lab_id else known
                for known in worker.cml.labs
            ]
        return state

    # -- licence -------------------------------------------------------------------------------

    async def register_licence(
        self, worker_id: str, token: str, *, reregister: bool = False
    ) -> LicenceChanged:
        """Register (CML answers at once), then follow the registration until CML says it is
        done: returns the "registration completed" event, or the started one when CML is still
        at it after `registration_timeout`. A refusal or a failed registration raises (a failed
        one's event is published first)."""
        actions = self.actions
        worker = actions.worker(worker_id)
        kind: ActionKind = "register_licence"
        detail: dict[str, object] = {"reregister": reregister}
        with actions.guard([worker], kind, detail=detail):
            target = self._target(worker, kind)
            at = actions.clock.now()
            actions.intent(worker, kind, at, detail)
            try:
                await ops.register_licence(self.cml, target, token, reregister=reregister)
            except (ops.CMLRefused, CMLError) as exc:
                raise self._failed(worker, kind, exc, detail, secret=token) from None
            actions.audit_line(worker, kind, "ok", at, detail=detail)
            started = _licence(worker, "registration started", at, actions.operator_for(worker))
            await self._licensing_now(worker, target)
            actions.read_soon(worker.key)
            actions.publish(started)
            return await self._follow_registration(worker, target, started)

    async def _follow_registration(
        self, worker: CMLWorker, target: CMLTarget, started: LicenceChanged
    ) -> LicenceChanged:
        """Read the licensing again until the registration is done (as Cloud Manager does)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.registration_timeout
        while True:
            registration = (worker.cml.licensing or {}).get("registration")
            status = str(registration.get("status") or "").upper() if registration else ""
            if status in REGISTRATION_FAILED:
                reason = _failure(registration) or f"registration ended {status}"
                now = self.actions.clock.now()
                self.actions.publish(
                    _licence(worker, "registration failed", now, started.by, reason)
                )
                raise ActionFailed(f"{worker.name}: licence registration failed: {reason}")
            if status in REGISTERED_STATES:
                now = self.actions.clock.now()
                completed = _licence(worker, "registration completed", now, started.by, status)
                self.actions.publish(completed)
                return completed
            if loop.time() >= deadline:
                log.info("registration of %s still under way; CML goes on", worker.name)
                return started
            await asyncio.sleep(self.poll_seconds)
            await self._licensing_now(worker, target)

    async def deregister_licence(self, worker_id: str) -> LicenceChanged:
        actions = self.actions
        worker = actions.worker(worker_id)
        kind: ActionKind = "deregister_licence"
        with actions.guard([worker], kind):
            target = self._target(worker, kind)
            at = actions.clock.now()
            actions.intent(worker, kind, at, {})
            try:
                note = await ops.deregister_licence(self.cml, target)
            except (ops.CMLRefused, CMLError) as exc:
                raise self._failed(worker, kind, exc, {}) from None
            await self._licensing_now(worker, target)
            actions.read_soon(worker.key)
            actions.audit_line(worker, kind, "ok", at, error=note)
            event = _licence(worker, "deregistered", at, actions.operator_for(worker), note)
            actions.publish(event)
            return event

    async def _licensing_now(self, worker: CMLWorker, target: CMLTarget) -> None:
        """The licence read again at once: the panel shows where it stands."""
        try:
            licensing = await self.cml.read_licensing(target)
        except CMLError as exc:
            log.info("licensing of %s not read again: %s", worker.name, exc)
            return
        apply_licensing(worker, licensing, self.actions.clock.now())

    # -- helpers -------------------------------------------------------------------------------

    def _target(self, worker: CMLWorker, kind: ActionKind) -> CMLTarget:
        target = self.targets(worker.key)
        if target is None or target.refusal is not None:
            why = target.refusal if target is not None else "no CML address known"
            raise ActionRefused(f"{worker.name}: {verb_of(kind)} not sent: {why}")
        return target

    def _refused(
        self, worker: CMLWorker, kind: ActionKind, message: str, detail: dict[str, object]
    ) -> ActionRefused:
        """Audit a refusal found on the last look; the error to raise."""
        now = self.actions.clock.now()
        self.actions.audit_line(worker, kind, "refused", now, error=message, detail=detail)
        return ActionRefused(message)

    def _failed(
        self,
        worker: CMLWorker,
        kind: ActionKind,
        exc: Exception,
        detail: dict[str, object],
        *,
        secret: str | None = None,
    ) -> ActionFailed:
        """Audit a call CML refused or that failed; the error to raise (the token cut out)."""
        reason = str(exc.message if isinstance(exc, CMLError) else exc)
        reason = cut_secrets(reason, (secret,) if secret else ())
        now = self.actions.clock.now()
        self.actions.audit_line(worker, kind, "failed", now, error=reason, detail=detail)
        return ActionFailed(f"{worker.name}: {verb_of(kind)} failed: {reason}")


def _licence(
    worker: CMLWorker, step: LicenceStep, at: datetime, by: str | None, detail: str | None = None
) -> LicenceChanged:
    return LicenceChanged(worker_id=worker.key, step=step, at=at, by=by, detail=detail)


def _lab_shown(worker: CMLWorker, lab_id: str) -> LabShown:
    """The lab as the last collection saw it (its title and state), if it did."""
    for lab in worker.cml.labs or ():
        if lab.id == lab_id:
            return LabShown(lab.title, lab.state)
    return LabShown(lab_id, None)


def _failure(registration: object) -> str | None:
    """CML's reason for a failed registration (`register_time.failure`), bounded."""
    if not isinstance(registration, dict):
        return None
    times = registration.get("register_time")
    failure = times.get("failure") if isinstance(times, dict) else None
    return " ".join(failure.split())[:300] if isinstance(failure, str) and failure else None
