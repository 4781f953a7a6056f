"""A backend's four channels and their `subscribe_*` methods: the Backend protocol's
subscription side, written once for the direct core and the Cloud Manager backend."""

from __future__ import annotations

from cmltui.api.backend import (
    WARNINGS_KEPT,
    ActivityCallback,
    SnapshotCallback,
    SourceStatus,
    StatusCallback,
    WarningCallback,
)
from cmltui.api.events import ActivityEvent, FleetSnapshot
from cmltui.api.subscribers import Subscribers


class Channels:
    """Snapshots, activity events, source status and warnings, each a `Subscribers`.

    A status subscriber is first given the current status; a warning subscriber the warnings
    raised before it subscribed.
    """

    def __init__(self, label: str) -> None:
        self.snapshots: Subscribers[FleetSnapshot] = Subscribers()
        self.activity: Subscribers[ActivityEvent] = Subscribers()
        self.statuses: Subscribers[SourceStatus] = Subscribers(keep=1)
        self.warnings: Subscribers[str] = Subscribers(keep=WARNINGS_KEPT)
        self.status = SourceStatus(label)
        self.statuses.publish(self.status)

    def subscribe_snapshots(self, callback: SnapshotCallback) -> None:
        self.snapshots.add(callback)

    def subscribe_activity(self, callback: ActivityCallback) -> None:
        self.activity.add(callback)

    def subscribe_status(self, callback: StatusCallback) -> None:
        self.statuses.add(callback)

    def subscribe_warnings(self, callback: WarningCallback) -> None:
        self.warnings.add(callback)

    def publish_status(self, status: SourceStatus) -> None:
        """The new status, unless it is the one already shown."""
        if status != self.status:
            self.status = status
            self.statuses.publish(status)
