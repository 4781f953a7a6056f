"""Pictures of the dashboard (pytest-textual-snapshot), from the fixed fleet at a fixed time.

Regenerate with `pytest tests/tui --snapshot-update`, then look at every changed SVG.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from idle_states_app import IdleStatesApp
from tui_fleet import by_name

from cmltui.api.backend import BackendContext
from cmltui.tui.app import CmltuiApp

WIDE = (160, 48)
COMPACT = (80, 24)


def _loaded(select: str | None = None) -> Callable[..., Awaitable[None]]:
    """Run one collection, optionally put the cursor on a worker by role, let it settle."""

    async def run_before(pilot) -> None:
        app: CmltuiApp = pilot.app
        await app.backend.collect()
        await pilot.pause()
        if select is not None:
            worker_id = next(d.id for d in app.latest.workers if f"-{select}-" in d.name)
            app.table.move_to(worker_id)
        await pilot.pause()
        await pilot.pause(0.05)  # let a layout pass after the selection run (timer-driven)

    return run_before


@pytest.fixture
def demo_context() -> BackendContext:
    return BackendContext(
        profile="lab-admin", regions=("us-east-1", "eu-west-1"), tls_verified=False, demo=True
    )


def test_main_screen_wide(snap_compare, make_app, demo_context):
    app, _ = make_app(context=demo_context)
    assert snap_compare(app, terminal_size=WIDE, run_before=_loaded())


def test_main_screen_compact(snap_compare, make_app, demo_context):
    app, _ = make_app(context=demo_context)
    assert snap_compare(app, terminal_size=COMPACT, run_before=_loaded())


def test_help_screen(snap_compare, make_app):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=COMPACT, press=["question_mark"], run_before=_loaded())


def test_active_filter(snap_compare, make_app):
    app, _ = make_app()
    assert snap_compare(
        app, terminal_size=WIDE, press=["slash", *"us-east", "enter"], run_before=_loaded()
    )


def test_worker_with_cml_down_shows_stale_marker(snap_compare, make_app):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=WIDE, run_before=_loaded("down"))


def test_stopped_worker(snap_compare, make_app):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=WIDE, run_before=_loaded("stopped"))


def test_idle_worker_compact_read_only(snap_compare, make_app):
    app, _ = make_app(context=BackendContext(profile="ro", regions=("us-east-1",), read_only=True))
    assert snap_compare(app, terminal_size=COMPACT, run_before=_loaded("idle"))


def test_no_color(snap_compare, make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app()
    assert app.no_color
    assert snap_compare(app, terminal_size=COMPACT, run_before=_loaded("busy"))


def test_below_minimum_size(snap_compare, make_app):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=(50, 12), run_before=_loaded())


def test_pause_confirmation(snap_compare, make_app):
    """No is focused (the default); the dialog names labs, owners and users."""
    app, _ = make_app()
    assert snap_compare(app, terminal_size=COMPACT, press=["p"], run_before=_loaded("labs"))


def test_resume_confirmation_wide(snap_compare, make_app):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=WIDE, press=["r"], run_before=_loaded("stopped"))


def test_read_only_refuses_pause(snap_compare, make_app):
    """The header says READ-ONLY and p only tells why nothing was sent."""
    app, _ = make_app(context=BackendContext(profile="ro", regions=("us-east-1",), read_only=True))
    assert snap_compare(app, terminal_size=WIDE, press=["p"], run_before=_loaded("busy"))


def test_idle_widget_states(snap_compare, workers, clock):
    """The real idle widget in each state: enabled, disabled (tag, default), idle, snooze,
    would pause at (auto-pause off), pauses at (on), read-only, stopped."""
    app = IdleStatesApp(workers, clock)

    async def run_before(pilot) -> None:
        app.show()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(104, 36), run_before=run_before)


def test_workers_filter_matches_one_by_role(workers):
    """The fixture mix has one worker per role, so pictures pick workers by role."""
    assert by_name(workers, "down").name == "cml-down-07"
