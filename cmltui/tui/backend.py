"""The seam between the dashboard and the core: what the app needs from a backend.

The real backend wires the collector, the actions and the idle checker; tests script one in
memory. Keeping the seam this small lets the UI be tested without AWS or CML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cmltui.backend import BackendContext
from cmltui.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
)

ActivityCallback = Callable[[ActivityEvent], None]
"""Called for every activity event; may be called from any thread."""


class Backend(Protocol):
    """One collector cycle on demand, the three actions, and the activity feed."""

    context: BackendContext
    warnings: list[str]
    """Messages actions left behind (e.g. history tags not written); shown once each."""

    async def collect(self) -> FleetSnapshot:
        """Run one collector cycle and return its snapshot."""
        ...

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

    def subscribe_activity(self, callback: ActivityCallback) -> None:
        """Register the app's receiver for idle-checker (and other) activity events."""
        ...
