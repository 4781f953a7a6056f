"""The core behind the dashboard: collector cycles, actions and the idle checker's loop.

Plain asyncio, no Textual: the TUI talks to this through a small protocol, and the same object
serves `cmltui run` and `cmltui demo`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from cmltui.api.backend import BackendContext
from cmltui.api.events import (
    ActivityEvent,
    FleetSnapshot,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
)

if TYPE_CHECKING:
    from cmltui.runtime import Core

log = logging.getLogger(__name__)


class CoreBackend:
    """Runs the idle checker on its own timer once the first cycle has found the fleet."""

    def __init__(self, core: Core) -> None:
        self.core = core
        config = core.config
        self.context = BackendContext(
            profile=config.aws.profile,
            regions=tuple(config.aws.regions),
            read_only=config.read_only,
            tls_verified=config.cml.verify_tls,
            demo=core.demo,
        )
        self._idle_task: asyncio.Task[None] | None = None

    @property
    def interval(self) -> float:
        return self.core.collector.interval

    def set_interval(self, seconds: float) -> None:
        """Called by the dashboard on `+`/`-`: `next_refresh_at` and `poll_interval` follow."""
        self.interval = seconds

    @interval.setter
    def interval(self, seconds: float) -> None:
        self.core.collector.interval = seconds

    @property
    def warnings(self) -> list[str]:
        """Messages an action left behind (e.g. a stop whose history tags were not written)."""
        return self.core.actions.warnings

    async def collect(self) -> FleetSnapshot:
        snapshot = await self.core.collector.collect()
        if self._idle_task is None:
            self._idle_task = asyncio.create_task(self._idle_loop(), name="cmltui-idle-checker")
        return snapshot

    async def toggle_idle_detection(
        self, worker_id: str, shown_enabled: bool
    ) -> IdleDetectionToggled:
        return await self.core.actions.toggle_idle_detection(worker_id, shown_enabled)

    async def pause(self, worker_id: str) -> WorkerPaused:
        return await self.core.actions.pause(worker_id)

    async def resume(self, worker_id: str) -> WorkerResumed:
        return await self.core.actions.resume(worker_id)

    def subscribe_activity(self, callback: Callable[[ActivityEvent], None]) -> None:
        self.core.subscribers.append(callback)

    async def _idle_loop(self) -> None:
        checker = self.core.idle_checker
        while True:
            try:
                await checker.check_due()
            except Exception:  # the loop must outlive one bad check
                log.exception("idle check failed")
            await asyncio.sleep(checker.tick_seconds)

    async def close(self) -> None:
        if self._idle_task is not None:
            self._idle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._idle_task
            self._idle_task = None
        await self.core.close()
