"""Readiness helpers for the dashboard's Pilot tests: wait for what a step needs, never sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from textual.pilot import Pilot

from cmltui.domain.worker import CMLWorker
from cmltui.tui.app import CmltuiApp
from tests.tui.tui_fleet import by_name


async def cycle(app: CmltuiApp, pilot: Pilot) -> None:
    """One collection on the backend, and the screen after it."""
    await app.backend.collect()  # type: ignore[attr-defined]
    await pilot.pause()


async def ready(
    app: CmltuiApp, pilot: Pilot, workers: Sequence[CMLWorker], role: str | None = None
) -> str | None:
    """One cycle, so that the table has rows; with `role`, the cursor on that worker."""
    await cycle(app, pilot)
    if role is None:
        return None
    worker_id = by_name(list(workers), role).instance_id
    app.table.move_to(worker_id)
    await pilot.pause()
    return worker_id


async def settle(app: CmltuiApp, pilot: Pilot) -> None:
    """Until every action the keys started has finished, and the screen after it."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def screen_lines(app: CmltuiApp) -> list[str]:
    """The lines the terminal shows now (the screen on top, as composed)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def messages(app: CmltuiApp) -> list[tuple[str, str]]:
    """Every toast so far: (severity, text)."""
    return [(n.severity, n.message) for n in app._notifications]


async def until(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    """Wait until `predicate()` holds (True), or `timeout` seconds pass (then its last value)."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return bool(predicate())
