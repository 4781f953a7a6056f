"""The two channels of the dashboard (the README's "How it is built"), one message type each.

`SnapshotArrived` carries a full collector cycle; `ActivityArrived` carries one minimal activity
event. They travel on two separate Textual signals owned by the app; each widget subscribes to
the channel(s) it reacts to, and nothing else crosses between them. The app has applied each
message to the view-model (`FleetView`) before it publishes it, so a widget reads the fleet
there, by id, and never keeps a copy of its own.

Widgets subscribe with `immediate=True`: every subscriber runs in the publisher's turn, in one
pass, and the screen shows the whole snapshot in one frame. Textual's default would post each
callback through `call_next`, wrapped in a new `partial` whose signature Textual inspects again
on every call: a cost paid by every widget on every cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.dom import DOMNode
from textual.signal import Signal

from cmltui.api.events import ActivityEvent, FleetSnapshot


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
