"""The two channels of the dashboard (SPEC §1), one message type each.

`SnapshotArrived` carries a full collector cycle; `ActivityArrived` carries one minimal activity
event. They travel on two separate Textual signals owned by the app; each widget subscribes to
the channel(s) it reacts to, and nothing else crosses between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.dom import DOMNode
from textual.signal import Signal

from cmltui.events import ActivityEvent, FleetSnapshot


@dataclass(frozen=True)
class SnapshotArrived:
    """A collector cycle's full snapshot (the snapshot channel)."""

    snapshot: FleetSnapshot


@dataclass(frozen=True)
class ActivityArrived:
    """One minimal activity event (the activity channel)."""

    event: ActivityEvent


class Bus:
    """The two channels; the app publishes, widgets subscribe."""

    def __init__(self, owner: DOMNode) -> None:
        self.snapshots: Signal[SnapshotArrived] = Signal(owner, "snapshots")
        self.activity: Signal[ActivityArrived] = Signal(owner, "activity")
