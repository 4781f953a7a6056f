"""Fixtures for the dashboard tests: fixed time zone, fixed clock, the fixed fleet."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from cmltui.api.backend import BackendContext
from cmltui.clock import ManualClock
from cmltui.config import Config
from cmltui.domain.worker import CMLWorker
from cmltui.tui.app import CmltuiApp
from tests.tui.tui_backend import ScriptedBackend
from tests.tui.tui_fleet import NOW, build_workers, snapshot


@pytest.fixture(autouse=True)
def utc_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC in every dashboard test, so pictures and texts are fixed."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def workers() -> list[CMLWorker]:
    return build_workers()


@pytest.fixture
def make_app(
    clock: ManualClock, workers: list[CMLWorker]
) -> Callable[..., tuple[CmltuiApp, ScriptedBackend]]:
    """An app over a scripted backend that maps the fleet at the clock's current time."""

    def make(
        config: Config | None = None,
        context: BackendContext | None = None,
    ) -> tuple[CmltuiApp, ScriptedBackend]:
        cfg = config or Config()
        backend = ScriptedBackend(
            lambda: snapshot(workers, clock.now(), cfg), clock, context, cfg.intervals.collector
        )
        return CmltuiApp(backend, cfg, clock), backend

    return make
