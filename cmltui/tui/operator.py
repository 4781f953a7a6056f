"""The operator's actions as the dashboard runs them: toggle idle detection, pause, resume,
and a lab's stop, start or wipe.

Checks that need no AWS (selection, read-only, already in flight, status) happen here, before
anything is sent or asked, on the state the screen shows (the view-model: a worker whose pause
was just sent is `stopping`); pause and resume then ask for confirmation. The backend call runs
in a Textual worker so the screen never blocks, and its event goes out on the activity channel.
A refusal is a warning, a failure an error; in both cases nothing on screen changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Set
from typing import Final

from cmltui.api.backend import ActionRefused
from cmltui.api.dto import CMLWorkerDto, LabDto
from cmltui.api.events import ActivityEvent
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.rules import (
    LAB_ACTIONS,
    ActionKind,
    LabVerb,
    Shown,
    action_refusal,
    bulk_pause_choice,
)
from cmltui.tui.bulk import BulkPauseScreen, BulkRow
from cmltui.tui.confirm import ConfirmActionScreen, Kind, LabConfirmScreen
from cmltui.tui.host import Host

log = logging.getLogger(__name__)

ERROR_STYLE: Final = "bold #ff6b6b"
_SENT: Final[dict[Kind, str]] = {"pause": "is stopping", "resume": "is starting"}


class OperatorActions:
    """Runs the operator's actions for one dashboard; remembers which workers have one in flight."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.in_flight: set[str] = set()

    # --- entry points (key bindings) ----------------------------------------------------------

    def toggle_idle(self, worker_id: str | None) -> None:
        dto = self._allowed("toggle_idle_detection", worker_id)
        if dto is None:
            return
        shown = self.host.view.detection_enabled(dto.id)  # what the screen says it flips
        self._start(
            "toggle idle detection",
            dto,
            lambda: self.host.backend.toggle_idle_detection(dto.id, shown),
            f"idle detection {'OFF' if shown else 'ON'} for {dto.name}",
        )

    def request(self, kind: Kind, worker_id: str | None) -> None:
        """Pause or resume a worker, after a confirmation whose default is No."""
        dto = self._allowed(kind, worker_id)
        if dto is None:
            return
        screen = ConfirmActionScreen(dto, kind, self.host.clock.now())
        self.host.push_screen(screen, lambda yes: self._answered(kind, dto, bool(yes)))

    def request_lab(self, verb: LabVerb, worker_id: str | None, lab_id: str | None) -> None:
        """Stop, start or wipe the lab under the detail screen's cursor, after a confirmation
        whose default is No."""
        dto = self.host.view.dto(worker_id)
        lab = next((lab for lab in (dto.labs or ()) if lab.id == lab_id), None) if dto else None
        if dto is None or lab is None:
            self._refuse("No lab selected.")
            return
        why = self.refusal(LAB_ACTIONS[verb], dto, lab)
        if why is not None:
            self._refuse(why)
            return
        screen = LabConfirmScreen(dto, lab, verb, self.host.clock.now())
        self.host.push_screen(screen, lambda yes: self._lab_answered(verb, dto, lab, bool(yes)))

    def _lab_answered(self, verb: LabVerb, dto: CMLWorkerDto, lab: LabDto, yes: bool) -> None:
        title = lab.title
        if not yes:
            self.host.notify(f"{verb.capitalize()} of lab {title} cancelled.", timeout=3)
            return
        if dto.id in self.in_flight:
            self._refuse(f"{dto.name}: an action is already in flight; wait for it")
            return
        backend = self.host.backend
        self._start(
            f"{verb} lab",
            dto,
            lambda: backend.lab_action(dto.id, lab.id, verb),
            f"{verb} lab sent: {title} on {dto.name}",
        )

    def refusal(self, kind: ActionKind, dto: CMLWorkerDto, lab: LabDto | None = None) -> str | None:
        """The core's one precondition rule, on the state the screen shows (in flight too)."""
        return action_refusal(
            kind,
            name=dto.name,
            status=self.host.view.status(dto.id) or WorkerStatus.UNKNOWN,
            read_only=self.host.backend.context.read_only,
            in_flight=dto.id in self.in_flight,
            lab_title=lab.title if lab else None,
            lab_state=lab.state if lab else None,
        )

    def bulk_candidates(self, shown: Iterable[str], marked: Set[str]) -> tuple[list[BulkRow], str]:
        """The marked workers, or (with none marked) every idle one, in the order shown; only
        running ones that have no action in flight. Returns each with its idle state as shown,
        and the word for them ("marked", "idle")."""
        view = self.host.view
        dtos = [dto for dto in (view.dto(w) for w in shown) if dto is not None]
        chosen, why = bulk_pause_choice(
            (
                Shown(
                    dto.id,
                    dto.name,
                    view.status(dto.id) or WorkerStatus.UNKNOWN,
                    view.idle_state(dto.id),
                )
                for dto in dtos
            ),
            marked,
            read_only=self.host.backend.context.read_only,
            in_flight=self.in_flight,
        )
        by_id = {dto.id: dto for dto in dtos}
        return [(by_id[s.worker_id], s.idle_state) for s in chosen], why

    def request_bulk(self, shown: Iterable[str], marked: Set[str]) -> None:
        """Pause the marked (or all idle) workers after one confirmation whose default is No."""
        if self.host.backend.context.read_only:
            self._refuse("read-only mode: pause not sent")
            return
        rows, why = self.bulk_candidates(shown, marked)
        if not rows:
            self._refuse(f"No {why} running worker to pause.")
            return
        dtos = [dto for dto, _state in rows]
        screen = BulkPauseScreen(rows, why)
        self.host.push_screen(screen, lambda yes: self._bulk_answered(dtos, bool(yes)))

    def _bulk_answered(self, dtos: list[CMLWorkerDto], yes: bool) -> None:
        if not yes:
            self.host.notify(f"Pause of {len(dtos)} workers cancelled.", timeout=3)
            return
        dtos = [dto for dto in dtos if dto.id not in self.in_flight]
        if not dtos:
            return
        ids = [dto.id for dto in dtos]
        self.in_flight.update(ids)
        self.host.run_worker(self._run_bulk(ids), group="actions", exit_on_error=False)

    async def _run_bulk(self, ids: list[str]) -> None:
        try:
            events = await self.host.backend.pause_many(ids)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(f"pause of {len(ids)} workers", exc, title="Pause failed")
        else:  # the backend put each worker's event on the activity channel itself
            sent = len(events)
            self.host.notify(f"Pause sent: {sent} of {len(ids)} workers stopping", timeout=5)
            self.host.clear_marks()  # kept after a failure, to try again
        finally:
            self.in_flight.difference_update(ids)

    # --- flow ---------------------------------------------------------------------------------

    def _allowed(self, kind: ActionKind, worker_id: str | None) -> CMLWorkerDto | None:
        """The selected worker, unless the precondition rule says no (then a warning)."""
        dto = self.host.view.dto(worker_id)
        if dto is None:
            self._refuse("No worker selected.")
            return None
        why = self.refusal(kind, dto)
        if why is not None:
            self._refuse(why)
            return None
        return dto

    def _answered(self, kind: Kind, dto: CMLWorkerDto, yes: bool) -> None:
        if not yes:
            self.host.notify(f"{kind.capitalize()} of {dto.name} cancelled.", timeout=3)
            return
        if dto.id in self.in_flight:  # a toggle may have started while the dialog was open
            self._refuse(f"{dto.name}: an action is already in flight; wait for it")
            return
        backend = self.host.backend
        call = backend.pause if kind == "pause" else backend.resume
        self._start(kind, dto, lambda: call(dto.id), f"{kind} sent: {dto.name} {_SENT[kind]}")

    def _start(
        self,
        what: str,
        dto: CMLWorkerDto,
        call: Callable[[], Awaitable[ActivityEvent]],
        success: str,
    ) -> None:
        """Send `call` in a worker; `success` is the toast once the backend took it."""
        self.in_flight.add(dto.id)  # before the worker runs: a quick second press is refused

        async def run() -> None:
            try:
                await call()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # ActionFailed, and anything else: never crash the app
                self._failed(what, exc, dto.id)
            else:  # the backend put the event on the activity channel itself
                self.host.notify(success[0].upper() + success[1:], timeout=4)
            finally:
                self.in_flight.discard(dto.id)

        self.host.run_worker(run(), group="actions", exit_on_error=False)

    def _failed(
        self, what: str, exc: Exception, worker_id: str | None = None, *, title: str = ""
    ) -> None:
        """A refusal is a warning; anything else an error in the log and a toast."""
        if isinstance(exc, ActionRefused):
            self._refuse(str(exc))
            return
        log.warning("%s failed for %s: %s", what, worker_id or "workers", exc, exc_info=True)
        self.host.note(f"{what} failed: {exc}", style=ERROR_STYLE)
        title = title or f"{what.capitalize()} failed"
        self.host.notify(str(exc), title=title, severity="error", timeout=10)

    def _refuse(self, message: str) -> None:
        self.host.notify(message, severity="warning", timeout=5)
