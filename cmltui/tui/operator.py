"""The operator's actions as the dashboard runs them: toggle idle detection, pause, resume.

Checks that need no AWS (selection, read-only, already in flight, status) happen here, before
anything is sent or asked; pause and resume then ask for confirmation. The backend call runs in
a Textual worker so the screen never blocks, and its event goes out on the activity channel. A
refusal is a warning, a failure an error; in both cases nothing on screen changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from cmltui.api.backend import ActionRefused
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import ActivityEvent
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.rules import ActionKind, action_refusal
from cmltui.tui.bulk import BulkPauseScreen
from cmltui.tui.confirm import ConfirmActionScreen, Kind
from cmltui.tui.overlay import STARTING, STOPPING

if TYPE_CHECKING:
    from cmltui.tui.app import CmltuiApp

log = logging.getLogger(__name__)

ERROR_STYLE: Final = "bold #ff6b6b"
WARNING_STYLE: Final = "yellow"
_MARKERS: Final[dict[str, WorkerStatus]] = {
    STOPPING: WorkerStatus.STOPPING,  # an in-flight marker counts as the state it announces
    STARTING: WorkerStatus.PENDING,
}
_SENT: Final[dict[Kind, str]] = {"pause": "is stopping", "resume": "is starting"}


class OperatorActions:
    """Runs the operator's actions for one app; remembers which workers have one in flight."""

    def __init__(self, app: CmltuiApp) -> None:
        self.app = app
        self.in_flight: set[str] = set()
        self._warnings_seen = 0  # the backend's warnings shown so far (each once)

    # --- entry points (key bindings) ----------------------------------------------------------

    def toggle_idle(self) -> None:
        dto = self._allowed("toggle_idle_detection")
        if dto is None:
            return
        shown = bool(self.app.idle_panel.shown_enabled(dto.id))
        self._start(
            "toggle idle detection",
            dto,
            lambda: self.app.backend.toggle_idle_detection(dto.id, shown),
            f"idle detection {'OFF' if shown else 'ON'} for {dto.name}",
        )

    def request(self, kind: Kind) -> None:
        """Pause or resume the selected worker, after a confirmation whose default is No."""
        dto = self._allowed(kind)
        if dto is None:
            return
        screen = ConfirmActionScreen(dto, kind, self.app.clock.now())
        self.app.push_screen(screen, lambda yes: self._answered(kind, dto, bool(yes)))

    def refusal(self, kind: ActionKind, dto: CMLWorkerDto) -> str | None:
        """The core's one precondition rule, on the state the screen shows (markers too)."""
        shown = self.app.table.shown_status(dto.id) or dto.status.value
        return action_refusal(
            kind,
            name=dto.name,
            status=_MARKERS.get(shown) or WorkerStatus.from_ec2(shown),
            read_only=self.app.backend.context.read_only,
            in_flight=dto.id in self.in_flight,
        )

    def bulk_candidates(self) -> tuple[list[CMLWorkerDto], str]:
        """The marked workers, or (with none marked) every idle one; only running ones that
        have no action in flight. Returns them and the word for them ("marked", "idle")."""
        table = self.app.table
        if table.marked:
            chosen = [
                self.app.dto(worker_id) for worker_id in table.order if worker_id in table.marked
            ]
            why = "marked"
        else:
            chosen = [self.app.dto(worker_id) for worker_id in table.order]
            chosen = [dto for dto in chosen if dto is not None and dto.is_idle]
            why = "idle"
        return [
            dto for dto in chosen if dto is not None and self.refusal("pause", dto) is None
        ], why

    def request_bulk(self) -> None:
        """Pause the marked (or all idle) workers after one confirmation whose default is No."""
        if self.app.backend.context.read_only:
            self._refuse("read-only mode: pause not sent")
            return
        dtos, why = self.bulk_candidates()
        if not dtos:
            self._refuse(f"No {why} running worker to pause.")
            return
        screen = BulkPauseScreen(dtos, why)
        self.app.push_screen(screen, lambda yes: self._bulk_answered(dtos, bool(yes)))

    def _bulk_answered(self, dtos: list[CMLWorkerDto], yes: bool) -> None:
        if not yes:
            self.app.notify(f"Pause of {len(dtos)} workers cancelled.", timeout=3)
            return
        dtos = [dto for dto in dtos if dto.id not in self.in_flight]
        if not dtos:
            return
        ids = [dto.id for dto in dtos]
        self.in_flight.update(ids)
        self.app.run_worker(self._run_bulk(ids), group="actions", exit_on_error=False)

    async def _run_bulk(self, ids: list[str]) -> None:
        try:
            events = await self.app.backend.pause_many(ids)
        except asyncio.CancelledError:
            raise
        except ActionRefused as exc:
            self._refuse(str(exc))
        except Exception as exc:
            log.warning("bulk pause failed: %s", exc, exc_info=True)
            self.app.note(f"pause of {len(ids)} workers failed: {exc}", style=ERROR_STYLE)
            self.app.notify(str(exc), title="Pause failed", severity="error", timeout=10)
        else:  # the backend put each worker's event on the activity channel itself
            sent = len(events)
            self.app.notify(f"Pause sent: {sent} of {len(ids)} workers stopping", timeout=5)
            self.app.table.clear_marks()  # kept after a failure, to try again
        finally:
            self.in_flight.difference_update(ids)
            self.show_new_warnings()

    # --- flow ---------------------------------------------------------------------------------

    def _allowed(self, kind: ActionKind) -> CMLWorkerDto | None:
        """The selected worker, unless the precondition rule says no (then a warning)."""
        worker_id = self.app.table.cursor_id
        dto = self.app.dto(worker_id) if worker_id else None
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
            self.app.notify(f"{kind.capitalize()} of {dto.name} cancelled.", timeout=3)
            return
        if dto.id in self.in_flight:  # a toggle may have started while the dialog was open
            self._refuse(f"{dto.name}: an action is already in flight; wait for it")
            return
        call = self.app.backend.pause if kind == "pause" else self.app.backend.resume
        self._start(kind, dto, lambda: call(dto.id), f"{kind} sent: {dto.name} {_SENT[kind]}")

    def _start(
        self,
        what: str,
        dto: CMLWorkerDto,
        call: Callable[[], Awaitable[ActivityEvent]],
        success: str,
    ) -> None:
        self.in_flight.add(dto.id)  # before the worker runs: a quick second press is refused
        self.app.run_worker(
            self._run(what, dto, call, success), group="actions", exit_on_error=False
        )

    async def _run(
        self,
        what: str,
        dto: CMLWorkerDto,
        call: Callable[[], Awaitable[ActivityEvent]],
        success: str,
    ) -> None:
        try:
            await call()
        except asyncio.CancelledError:
            raise
        except ActionRefused as exc:
            self._refuse(str(exc))
        except Exception as exc:  # ActionFailed, and anything else: never crash the app
            log.warning("%s failed for %s: %s", what, dto.id, exc, exc_info=True)
            self.app.note(f"{what} failed: {exc}", style=ERROR_STYLE)
            self.app.notify(
                str(exc), title=f"{what.capitalize()} failed", severity="error", timeout=10
            )
        else:  # the backend put the event on the activity channel itself
            self.app.notify(success[0].upper() + success[1:], timeout=4)
        finally:
            self.in_flight.discard(dto.id)
            self.show_new_warnings()

    def _refuse(self, message: str) -> None:
        self.app.notify(message, severity="warning", timeout=5)

    # --- warnings from the core (e.g. a stop whose history tags could not be written) ---------

    def show_new_warnings(self) -> None:
        warnings = self.app.backend.warnings
        for message in warnings[self._warnings_seen :]:
            self.app.note(f"warning: {message}", style=WARNING_STYLE)
            self.app.notify(str(message), title="Warning", severity="warning", timeout=10)
        self._warnings_seen = len(warnings)
