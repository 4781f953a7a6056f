"""Pilot tests of the dashboard: channels, settle rule on screen, cursor, keys, collector."""

from __future__ import annotations

import threading
from datetime import timedelta

from textual.widgets import Input

from cmltui.api.events import ActivityUpdated, FleetSnapshot, WorkerPaused, WorkerResumed
from cmltui.config import Config, KeysConfig
from cmltui.domain.enums import WorkerStatus
from cmltui.tui.app import CmltuiApp
from cmltui.tui.header import FleetHeader
from cmltui.tui.panels import GaugesPanel, IdleStatusPanel, PausePanel
from tests.tui.pilot_helpers import cycle
from tests.tui.tui_backend import ScriptedBackend
from tests.tui.tui_fleet import NOW, by_name, snapshot

SIZE = (160, 48)


def _panels(app: CmltuiApp) -> tuple[GaugesPanel, IdleStatusPanel, PausePanel]:
    return (
        app.query_one("#gauges", GaugesPanel),
        app.query_one("#idle", IdleStatusPanel),
        app.query_one("#pause", PausePanel),
    )


def _screen_state(app: CmltuiApp) -> tuple[object, ...]:
    """Everything a metric-only observer sees: table rows, gauges text, history."""
    gauges, _, _ = _panels(app)
    table = app.table
    rows = tuple(table.row_text(worker_id) for worker_id in table.order)
    series = tuple(
        app.history.series(worker_id, metric)
        for worker_id in table.order
        for metric in ("cpu", "memory", "disk")
    )
    return rows, gauges.plain(), series


async def test_snapshot_updates_table_gauges_and_repaints_only_changed_rows(
    make_app, workers, clock
):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        busy = by_name(workers, "busy")
        assert app.table.cursor_id == busy.instance_id  # first by name
        gauges, _, _ = _panels(app)
        assert "93% !!" in gauges.plain()
        assert app.table.row_text(busy.instance_id).split()[3] == "93!!"

        rows_before = {w: app.table.row_text(w) for w in app.table.order}
        busy.cml.system_info["cpu_percent"] = 41.0
        clock.advance(10)
        busy.cml.stats_synced_at = clock.now()
        await cycle(app, pilot)
        changed = {w for w in app.table.order if app.table.row_text(w) != rows_before[w]}
        degraded = by_name(workers, "degraded").instance_id  # its stale age moved 40s -> 50s
        assert changed == {busy.instance_id, degraded}
        assert app.table.lines_refreshed == 2  # only the changed rows are repainted
        assert " 41%  " in gauges.plain() and "93%" not in gauges.plain()
        assert app.table.row_text(busy.instance_id).split()[3] == "41"
        assert app.history.series(busy.instance_id, "cpu") == (93.0, 41.0)

        await cycle(app, pilot)
        assert app.table.lines_refreshed == 0  # nothing visible changed


async def test_toggle_flips_idle_widget_only_and_settles(make_app, workers, clock):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        idle_worker = by_name(workers, "idle")
        app.table.move_to(idle_worker.instance_id)
        await pilot.pause()
        _, idle_panel, _ = _panels(app)
        assert "Detection   ON" in idle_panel.plain()
        before = _screen_state(app)

        clock.advance(5)
        toggled_at = clock.now()
        await pilot.press("i")
        await pilot.pause()
        assert backend.calls == [("toggle", idle_worker.instance_id, "True")]
        assert "Detection   OFF (unconfirmed)" in idle_panel.plain()
        # The table's IDLE cell follows the same state as the panel, at once; nothing else
        # (no gauge, sparkline, other cell or other row) moved.
        x, width = app.table.column_span("idle")
        row_before = before[0][app.table.order.index(idle_worker.instance_id)]
        row_after = app.table.row_text(idle_worker.instance_id)
        assert row_after[x : x + width].strip() == "off"
        assert row_before[x : x + width].strip() != "off"
        assert row_after[:x] + row_after[x + width :] == row_before[:x] + row_before[x + width :]
        after = _screen_state(app)
        assert [r for r in after[0] if r != row_after] == [r for r in before[0] if r != row_before]
        assert after[1:] == before[1:]
        assert "idle detection OFF by tester" in "\n".join(
            str(line.text) for line in app.activity_log.lines
        )

        # A snapshot whose collection started before the toggle does not flip it back.
        backend.produce = lambda: snapshot(workers, toggled_at - timedelta(seconds=3))
        await cycle(app, pilot)
        assert "Detection   OFF (unconfirmed)" in idle_panel.plain()
        # Nor does one within the settle time that still shows the old tag.
        backend.produce = lambda: snapshot(workers, toggled_at + timedelta(seconds=20))
        await cycle(app, pilot)
        assert "OFF (unconfirmed)" in idle_panel.plain()
        # A later snapshot that agrees confirms it.
        idle_worker.tags["cmltui:idle-detection"] = "disabled"
        backend.produce = lambda: snapshot(workers, toggled_at + timedelta(seconds=25))
        await cycle(app, pilot)
        assert "Detection   OFF" in idle_panel.plain()
        assert "unconfirmed" not in idle_panel.plain()


async def test_disagreeing_snapshot_after_settle_wins(make_app, workers, clock):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        await pilot.press("i")  # on cml-busy-01
        await pilot.pause()
        _, idle_panel, _ = _panels(app)
        assert "OFF (unconfirmed)" in idle_panel.plain()
        backend.produce = lambda: snapshot(workers, NOW + timedelta(seconds=31))
        await cycle(app, pilot)
        assert "Detection   ON" in idle_panel.plain()  # someone changed it back


async def test_paused_and_resumed_patch_only_pause_widget_and_row_marker(make_app, workers, clock):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        busy = by_name(workers, "busy")
        gauges, idle_panel, pause_panel = _panels(app)
        rows_before = {w: app.table.row_text(w) for w in app.table.order}
        gauges_before, idle_before = gauges.plain(), idle_panel.plain()

        clock.advance(3)
        backend.emit(
            WorkerPaused(
                worker_id=busy.instance_id,
                pause_reason="manual",
                paused_by="carol",
                paused_at=clock.now(),
                auto_pause_count=0,
                manual_pause_count=1,
                idle_duration_minutes=3.0,
            )
        )
        await pilot.pause()
        assert app.view.status_word(busy.instance_id) == "stopping…"
        assert "stopping…" in app.table.row_text(busy.instance_id)
        text = pause_panel.plain()
        assert "State       stopping…" in text
        assert "14:00 by carol (manual)" in text and "pauses 0/1" in text
        assert gauges.plain() == gauges_before and idle_panel.plain() == idle_before
        for worker_id, row in rows_before.items():
            if worker_id != busy.instance_id:
                assert app.table.row_text(worker_id) == row
        # Only the status cell of the row changed.
        changed = [
            (a, b)
            for a, b in zip(
                rows_before[busy.instance_id].split(),
                app.table.row_text(busy.instance_id).split(),
                strict=True,
            )
            if a != b
        ]
        assert changed == [("running", "stopping…")]

        # The snapshot that sees the instance stopped confirms the marker away.
        busy.status = WorkerStatus.STOPPED
        backend.produce = lambda: snapshot(workers, clock.now() + timedelta(seconds=5))
        await cycle(app, pilot)
        assert app.view.status_word(busy.instance_id) == "stopped"
        assert "State       stopped" in pause_panel.plain()

        backend.emit(
            WorkerResumed(
                worker_id=busy.instance_id,
                resume_reason="manual",
                resumed_by="carol",
                resumed_at=clock.now(),
                auto_resume_count=0,
                manual_resume_count=1,
                was_auto_paused=False,
            )
        )
        await pilot.pause()
        assert app.view.status_word(busy.instance_id) == "starting…"
        assert "resumes 0/1" in pause_panel.plain()


async def test_activity_updated_from_another_thread_patches_idle_fields(make_app, workers, clock):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        _, idle_panel, _ = _panels(app)
        busy = by_name(workers, "busy")
        event = ActivityUpdated(
            worker_id=busy.instance_id,
            last_activity_at=NOW,
            last_activity_check_at=NOW + timedelta(seconds=1),
            next_idle_check_at=None,
            target_pause_at=NOW + timedelta(minutes=60),
        )
        thread = threading.Thread(target=backend.emit, args=(event,))
        thread.start()
        thread.join()
        await pilot.pause(0.05)
        await pilot.pause()
        assert "Would pause at 15:00" in idle_panel.plain()
        assert "Activity    14:00" in idle_panel.plain()


async def test_cursor_follows_the_worker_when_rows_resort(make_app, workers, clock):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        await pilot.press("s", "s", "s")  # left to right as shown: NAME, STATUS, CML, CPU%
        assert app.table.sort_key == "cpu"
        labs = by_name(workers, "labs")
        app.table.move_to(labs.instance_id)
        await pilot.pause()
        assert app.table.order.index(labs.instance_id) == 1
        labs.cml.system_info["cpu_percent"] = 1.0
        clock.advance(10)
        await cycle(app, pilot)
        assert app.table.order.index(labs.instance_id) > 5
        assert app.table.cursor_id == labs.instance_id
        await pilot.press("down")
        assert app.table.cursor_id != labs.instance_id


async def test_remapped_keys_work(make_app):
    config = Config(keys=KeysConfig(refresh="f5", sort="O", freeze="z"))
    app, backend = make_app(config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        assert backend.refreshes == 1
        await pilot.press("R")  # the old key does nothing now
        await pilot.pause()
        assert backend.refreshes == 1
        await pilot.press("O")
        assert app.table.sort_key == "status"
        await pilot.press("z")
        assert app.frozen


async def test_the_app_starts_the_backend_and_runs_no_collection_of_its_own(make_app):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        assert backend.started
        assert backend.collects == 0  # only the backend (the core service) collects
        await pilot.press("R", "R")
        assert backend.refreshes == 2
        await pilot.press("s")
        assert app.table.sort_key == "status"


async def test_freeze_holds_the_view_and_unfreezing_shows_the_latest(make_app, workers, clock):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        busy = by_name(workers, "busy")
        await pilot.press("f")
        assert app.screen.has_class("-frozen")
        busy.cml.system_info["cpu_percent"] = 11.0
        clock.advance(10)
        await cycle(app, pilot)
        assert "93!!" in app.table.row_text(busy.instance_id)  # held
        assert app.history.series(busy.instance_id, "cpu")[-1] == 11.0  # collection went on
        await pilot.press("f")
        await pilot.pause()
        assert " 11 " in app.table.row_text(busy.instance_id)


async def test_failed_cycle_notifies_and_keeps_the_last_data(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        backend.fail_next = RuntimeError("AWS said no")
        await cycle(app, pilot)
        assert any("AWS said no" in str(n.message) for n in app._notifications)
        assert (
            "retrying: collection failed: AWS said no"
            in app.query_one(FleetHeader).build(160).plain
        )
        assert len(app.table.order) == 12  # the last data stays


async def test_interval_keys_and_filter(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        await pilot.press("plus")
        assert app.backend.interval == 15  # the next rung of the ladder, kept by the backend
        await pilot.press("minus", "minus", "minus", "minus")
        assert app.backend.interval == 2
        for _ in range(10):
            await pilot.press("plus")
        assert app.backend.interval == 600
        await pilot.press("minus", "minus", "minus", "minus", "minus", "minus")
        assert app.backend.interval == 10  # round steps back down, never 9.375

        await pilot.press("slash", *"expired")
        assert app.query_one("#filter", Input).has_focus
        await pilot.press("enter")
        assert app.table.filter_text == "expired"
        assert app.table.cursor_id == by_name(workers, "expired").instance_id
        assert len(app.table.order) == 1
        await pilot.press("slash", "escape")
        assert app.table.filter_text == "" and len(app.table.order) == 12


async def test_below_minimum_size_shows_a_message(make_app):
    app, _ = make_app()
    async with app.run_test(size=(50, 12)) as pilot:
        await pilot.pause()
        assert app.query_one("#too-small").display
        assert not app.query_one("#body").display


async def test_health_panel_names_each_boot_phase_of_cml(make_app, workers, clock):
    """After a start CML refuses, then answers `ready: false`, then is ready: each is shown."""
    from cmltui.domain.status import CMLOutcome, CMLReach

    app, _ = make_app()
    booting = by_name(workers, "busy")
    booting.launch_time = clock.now() - timedelta(minutes=1)  # within the boot grace
    phases = [
        (CMLOutcome(reach=CMLReach.NO_ANSWER), None, "not answering yet"),
        (CMLOutcome(reach=CMLReach.PARTIAL), False, "answers, not ready yet"),
        (CMLOutcome(reach=CMLReach.FULL, health_valid=True), True, "available"),
    ]
    async with app.run_test(size=SIZE) as pilot:
        for outcome, ready, shown in phases:
            booting.cml.outcome = outcome
            booting.cml.ready = ready
            await cycle(app, pilot)
            app.table.move_to(booting.instance_id)
            await pilot.pause()
            health = app.query_one("#health").plain()
            assert health.startswith("CML") and shown in health.splitlines()[0], health
        assert "· ready" in health and "not ready" not in health


async def test_a_long_start_shows_its_phase_and_a_progress_bar(make_app):
    from cmltui.api.backend import SourceStatus

    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        backend.status(
            SourceStatus(
                "demo", "starting", "simulated fleet: creating instances 500/1000", None, 0.5
            )
        )
        await pilot.pause()
        top = app.query_one(FleetHeader).build(160).plain.splitlines()[0]
        assert "starting ▕██████░░░░░░▏ 50%: simulated fleet: creating instances 500/1000" in top


# --- unknown is never zero ----------------------------------------------------------------------


def _failing_app(clock) -> CmltuiApp:
    errors = ("us-east-1: no AWS credentials found",)
    backend = ScriptedBackend(
        lambda: FleetSnapshot(collected_at=clock.now(), workers=(), errors=errors), clock
    )
    return CmltuiApp(backend, Config(), clock)


async def test_with_no_successful_collection_no_figure_reads_zero(clock):
    """No credentials: no `$0`, no `0` counts, and the time is of no success, not the try."""
    app = _failing_app(clock)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await cycle(app, pilot)
            clock.advance(10)
        for width in (160, 80):
            header = app.query_one(FleetHeader).build(width).plain
            assert "$" not in header and " 0 " not in header, header
        header = app.query_one(FleetHeader).build(160).plain
        assert "burn —/h" in header and "day —" in header and "month —" in header
        assert "never updated · last try failed 14:00:20" in header  # NOW + 20 s, the last try
        # One failure, reported once, in one wording (it failed three times the same way).
        toasts = [n for n in app._notifications if "no AWS credentials" in str(n.message)]
        assert [(n.title, n.severity) for n in toasts] == [("Collection failed", "error")]
        lines = [line.text for line in app.activity_log.lines if "credentials" in line.text]
        assert len(lines) == 1 and "collection failed: us-east-1" in lines[0]


async def test_the_time_is_the_last_success_with_a_failed_try_marked(make_app, clock):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)  # 14:00:00, listed
        clock.advance(62)
        backend.fail_next = RuntimeError("AWS said no")
        await cycle(app, pilot)
        header = app.query_one(FleetHeader).build(160).plain
        assert "updated 14:00:00 · last try failed 14:01:02" in header
        assert "burn $" in header  # the last known figures stay, with their time
        clock.advance(10)
        await cycle(app, pilot)  # listed again: the marker goes
        header = app.query_one(FleetHeader).build(160).plain
        assert "updated 14:01:12 · every" in header and "failed" not in header


async def test_the_activity_log_reflows_after_a_resize(make_app):
    app, _ = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await cycle(app, pilot)
        words = " ".join(f"word{i}" for i in range(40))  # about 280 characters
        app.note(f"error: {words}", style="#ff6b6b")
        await pilot.pause()
        log = app.activity_log
        wide = [line.text for line in log.lines if "word" in line.text]
        assert len(wide) == 2 and max(len(line) for line in wide) > 100
        await pilot.resize_terminal(80, 40)
        await pilot.pause()
        narrow = [line.text for line in log.lines if "word" in line.text]
        assert len(narrow) >= 4 and max(len(line.rstrip()) for line in narrow) <= 80
        assert "word39" in narrow[-1]
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert len([line for line in log.lines if "word" in line.text]) == 2


async def test_at_120x40_the_log_takes_what_the_table_leaves(make_app):
    """12 workers need 14 rows: no blank band above a small log."""
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await cycle(app, pilot)
        table, log = app.table, app.activity_log
        assert table.region.height <= 12 + 3  # title line, header, rows
        assert log.region.height >= 40 - 2 - 1 - table.region.height - 1
        await pilot.resize_terminal(120, 24)  # short: as before, the log gives way
        await pilot.pause()
        assert not log.display or log.region.height == 0


async def test_help_shows_each_path_whole(make_app, tmp_path):
    from textual.containers import VerticalScroll
    from textual.widgets import Static

    app, _ = make_app()
    deep = tmp_path / "a-rather-long-folder-name" / "another-long-one" / "and-one-more"
    app.audit_path = deep / "audit.jsonl"
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        files = str(app.screen.query_one("#help-files", Static).render())
        assert str(app.audit_path) in files.replace("\n", "")
        assert "…" not in files
        # ...and on the first screen of help, with every key and cue: nothing to scroll to
        assert app.screen.query_one(VerticalScroll).max_scroll_y == 0


async def test_an_unknown_filter_prefix_is_named_in_the_filter_line(make_app):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await cycle(app, pilot)
        await pilot.press("slash", *"foo:bar")
        await pilot.pause()
        box = app.query_one("#filter", Input)
        assert "unknown field “foo:”" in str(box.border_title)
        assert "unknown field “foo:”" in str(app.table.border_title)
        await pilot.press(*("backspace" for _ in "foo:bar"), *"owner:x")
        await pilot.pause()
        assert not box.border_title
