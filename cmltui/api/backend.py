"""The seam between a core and a user interface: what a dashboard may ask of a backend.

Plain Python (no Textual, boto3, aiohttp or simulator): the TUI imports only this package, so a
backend can be the AWS core, the demo, a Cloud Manager source or a scripted test double.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cmltui.api.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    LabChanged,
    LicenceChanged,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.domain.rules import ActionKind, LabVerb

ActivityCallback = Callable[[ActivityEvent], None]
"""Called for every activity event; may be called from any thread."""


class ActionRefused(Exception):
    """Nothing was done: a precondition, read-only mode, or the action is already in flight."""


class ActionFailed(Exception):
    """AWS refused or failed; nothing changed locally."""


@dataclass(frozen=True)
class BackendContext:
    """What the header shows about where the data comes from."""

    profile: str | None = None
    regions: tuple[str, ...] = field(default_factory=tuple)
    read_only: bool = False
    tls_verified: bool = True
    demo: bool = False
    source: str | None = None
    """Shown instead of the profile when the fleet is read through a service (`ccm https://…`)."""
    accounts: tuple[str, ...] = ()
    """The named AWS accounts of the fleet (`[[aws.accounts]]`); empty for one default account."""
    listings: int = 0
    """(account, region) listings a cycle makes; 0: one per region."""

    @property
    def listing_count(self) -> int:
        return self.listings or len(self.regions) or 1


@dataclass(frozen=True)
class SourceStatus:
    """Where the data comes from and whether it is flowing, for the header.

    `state` is one word a UI can style (`starting`, `ok`, `retrying`, `reconnecting`,
    `error`); `detail` is plain outside-derived text, shown as data.
    """

    label: str
    state: str = "starting"
    detail: str | None = None
    retry_at: datetime | None = None
    progress: float | None = None  # 0..1 while a long start is under way (the demo's fleet)


SnapshotCallback = Callable[[FleetSnapshot], None]
StatusCallback = Callable[[SourceStatus], None]
WarningCallback = Callable[[str], None]
"""Called once per warning (a stop whose history tags could not be written, an unusable audit
log); may be called from any thread."""
WARNINGS_KEPT = 200
"""How many warnings a backend keeps for a subscriber that joins after they were raised."""

AuditEntry = Mapping[str, Any]
"""One audit-log line as written: time, actor, action, instance_id, result, error, …"""


class Backend(Protocol):
    """A running source of the two channels, the operator's actions and the interval.

    `start()` begins the schedules and returns at once; snapshots and activity events then
    arrive through the subscriptions, possibly from another thread. An action publishes its
    own minimal event on the activity channel and also returns it.
    """

    context: BackendContext

    @property
    def interval(self) -> float:
        """The collection interval in seconds (kept in one place: the core)."""
        ...

    def set_interval(self, seconds: float) -> float:
        """Change the interval; returns the value in effect after clamping to the bounds."""
        ...

    def subscribe_snapshots(self, callback: SnapshotCallback) -> None: ...

    def subscribe_activity(self, callback: ActivityCallback) -> None: ...

    def subscribe_status(self, callback: StatusCallback) -> None: ...

    def subscribe_warnings(self, callback: WarningCallback) -> None:
        """Each warning an action or the source leaves behind, once, as it happens (a
        subscriber that joins late is first given the ones already raised)."""
        ...

    async def start(self) -> None:
        """Start the schedules (collector, idle checker or stream); returns at once."""
        ...

    def refresh_now(self) -> None:
        """Ask for a collection now (one follows the running one if there is one)."""
        ...

    async def snapshot_once(self) -> FleetSnapshot:
        """One whole snapshot without the schedules (`cmltui snapshot`): collect, read the
        activity once so idle figures are real, collect again; or the Cloud Manager's set."""
        ...

    async def audit_entries(self, worker_id: str, limit: int = 50) -> list[AuditEntry]:
        """This worker's newest audit-log entries, oldest first, read off the event loop."""
        ...

    async def close(self) -> None: ...

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        """Set the worker's idle-detection tag to the opposite of what the screen shows."""
        ...

    async def pause(self, worker_id: str) -> WorkerPaused:
        """Stop the instance (the user has confirmed)."""
        ...

    async def resume(self, worker_id: str) -> WorkerResumed:
        """Start the instance (the user has confirmed)."""
        ...

    async def pause_many(self, worker_ids: list[str]) -> list[WorkerPaused]:
        """Stop several instances after one confirmation (one StopInstances per region)."""
        ...

    async def lab_action(self, worker_id: str, lab_id: str, verb: LabVerb) -> LabChanged:
        """Stop, start or wipe one of the worker's labs (the user has confirmed)."""
        ...

    async def register_licence(
        self, worker_id: str, token: str, *, reregister: bool = False
    ) -> LicenceChanged:
        """Register the worker's CML licence with a Smart Licensing token (never kept, shown,
        logged or audited). Returns the "registration completed" event once done, or the
        started one when it is still under way after the backend's wait; raises `ActionFailed`
        with CML's reason when it was refused or failed."""
        ...

    async def deregister_licence(self, worker_id: str) -> LicenceChanged:
        """Deregister the worker's CML licence from Smart Licensing."""
        ...

    async def prepare_actions(self) -> FleetSnapshot:
        """Be ready to act from a command (`cmltui pause …`): read the fleet once, as
        `snapshot_once` does, with what an action's outcome needs (the operator's name; the
        Cloud Manager's event stream, which brings its events)."""
        ...

    def request_text(
        self,
        kind: ActionKind,
        worker_id: str,
        *,
        lab_id: str | None = None,
        enable: bool | None = None,
    ) -> str:
        """The call an action would send, in one line (`--dry-run`); `enable` is what a
        toggle would set."""
        ...
