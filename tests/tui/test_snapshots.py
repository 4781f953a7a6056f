"""Pictures of the dashboard (pytest-textual-snapshot), from the fixed fleet at a fixed time.

Regenerate with `pytest tests/tui --snapshot-update`, then look at every changed SVG.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from cmltui.api.backend import BackendContext
from cmltui.api.events import ActivityUpdated, FleetSnapshot
from cmltui.audit import AuditLog
from cmltui.config import Config, UiConfig
from cmltui.tui.app import CmltuiApp
from tests.tui.idle_states_app import IdleStatesApp
from tests.tui.tui_backend import ScriptedBackend
from tests.tui.tui_fleet import NOW, by_name

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


# --- operator reach ----------------------------------------------------------------------------

MEDIUM = (120, 40)


def _session(clock, workers, cycles: int = 8) -> Callable[..., Awaitable[None]]:
    """Several cycles with the busy worker's load moving, so the detail plot has a history."""

    async def run_before(pilot) -> None:
        app: CmltuiApp = pilot.app
        busy = by_name(workers, "busy")
        stats = busy.cml.system_info
        for step in range(cycles):
            stats["cpu_percent"] = 40.0 + 7 * step % 50
            clock.advance(10)
            busy.cml.stats_synced_at = clock.now()
            await app.backend.collect()
            await pilot.pause()
        app.table.move_to(busy.instance_id)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await app.screen.workers.wait_for_complete()  # the audit entries, read off the loop
        await pilot.pause(0.05)

    return run_before


def _audited(app: CmltuiApp, backend, workers, tmp_path) -> None:
    """Two audit entries for the busy worker; the screen names a fixed audit log path (the
    entries are read from a temporary one, which would change the picture every run)."""
    busy = by_name(workers, "busy")
    backend.audit = AuditLog(tmp_path / "audit.jsonl")
    app.audit_path = Path("/var/lib/cmltui/audit.jsonl")
    for operator, action, result, error in (
        ("alice", "toggle_idle_detection", "ok", None),
        ("bob", "pause", "failed", "UnauthorizedOperation: You are not authorized to stop i-…"),
    ):
        backend.audit.record(
            at=NOW,
            operator=operator,
            action=action,
            worker_id=busy.instance_id,
            worker_name=busy.name,
            region=busy.region,
            result=result,
            error=error,
        )


def test_detail_screen_wide(snap_compare, make_app, workers, clock, tmp_path):
    app, backend = make_app()
    _audited(app, backend, workers, tmp_path)
    assert snap_compare(app, terminal_size=WIDE, run_before=_session(clock, workers))


def test_detail_screen_compact(snap_compare, make_app, workers, clock, tmp_path):
    app, backend = make_app()
    _audited(app, backend, workers, tmp_path)
    assert snap_compare(app, terminal_size=COMPACT, run_before=_session(clock, workers))


def test_table_at_120_columns_keeps_idle_and_cost(snap_compare, make_app, demo_context):
    app, _ = make_app(context=demo_context)
    assert snap_compare(app, terminal_size=MEDIUM, run_before=_loaded("idle"))


def test_light_theme_is_readable(snap_compare, make_app):
    app, _ = make_app(config=Config(ui=UiConfig(theme="textual-light")))
    assert snap_compare(app, terminal_size=MEDIUM, run_before=_loaded("busy"))


def test_bulk_pause_confirmation(snap_compare, make_app, workers):
    app, _ = make_app()

    async def run_before(pilot) -> None:
        await _loaded()(pilot)
        for role in ("idle", "snooze", "busy"):
            pilot.app.table.move_to(by_name(workers, role).instance_id)
            await pilot.press("v")
        await pilot.press("P")
        await pilot.pause()

    assert snap_compare(app, terminal_size=MEDIUM, run_before=run_before)


def test_no_credentials_panel(snap_compare, clock):
    config = Config()
    errors = ("us-east-1: no AWS credentials found", "eu-west-1: no AWS credentials found")
    context = BackendContext(profile="lab", regions=("us-east-1", "eu-west-1"))
    backend = ScriptedBackend(
        lambda: FleetSnapshot(collected_at=clock.now(), workers=(), errors=errors),
        clock,
        context,
    )
    app = CmltuiApp(backend, config, clock)
    assert snap_compare(app, terminal_size=MEDIUM, run_before=_loaded())


def test_activity_log_full_height_at_80x24(snap_compare, make_app, workers, clock):
    app, backend = make_app()

    async def run_before(pilot) -> None:
        await _loaded()(pilot)
        for worker in workers:  # one check round: one line, not twelve
            backend.emit(
                ActivityUpdated(
                    worker_id=worker.instance_id,
                    last_activity_at=NOW,
                    last_activity_check_at=clock.now(),
                    next_idle_check_at=clock.now(),
                    target_pause_at=None,
                )
            )
        await pilot.pause()
        pilot.app.activity_log.flush_round()
        pilot.app.note("error: eu-west-1: cannot reach endpoint", style="bold #ff6b6b")
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(app, terminal_size=COMPACT, run_before=run_before)


def test_lab_stop_confirmation(snap_compare, make_app):
    """h on a worker's detail screen: the lab under the cursor, its owner, state and what a
    stop does; No is focused."""
    app, _ = make_app()

    async def run_before(pilot) -> None:
        await _loaded("busy")(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=COMPACT, press=["h"], run_before=run_before)
