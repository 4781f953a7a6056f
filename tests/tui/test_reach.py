"""Operator reach: dialogs that only `y` confirms, bulk pause, marks, detail, open,
copy, the conventions people know (ctrl+c, Esc, g/G, sort and clicks) and the interval ladder."""

from __future__ import annotations

import json

import pytest
from rich.console import Console
from textual.widgets import Input, Static

from cmltui.api.backend import ActionFailed, BackendContext
from cmltui.api.events import ActivityUpdated, FleetSnapshot
from cmltui.audit import AuditLog, default_audit_path
from cmltui.config import Config, KeysConfig, load_config
from cmltui.logging_setup import log_file_path
from cmltui.tui import reach
from cmltui.tui.app import CmltuiApp
from cmltui.tui.bulk import BulkPauseScreen
from cmltui.tui.columns import fit_columns
from cmltui.tui.confirm import ConfirmActionScreen, running_rate
from cmltui.tui.detail import LabsTable, WorkerDetailScreen
from cmltui.tui.fmt import money
from cmltui.tui.panels import IdleStatusPanel
from cmltui.tui.problem import fixes_for
from cmltui.tui.reach import CopyMenu
from cmltui.tui.safe import shown_lines
from cmltui.tui.table import WorkerTable
from tests.tui.pilot_helpers import cycle, ready, settle
from tests.tui.tui_backend import ScriptedBackend
from tests.tui.tui_fleet import by_name, snapshot

SIZE = (160, 48)


# --- confirmation: only y is yes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "keys", [("tab", "enter"), ("enter",), ("n",), ("escape",), ("tab", "tab", "enter")]
)
async def test_pause_dialog_is_not_confirmed_by_anything_but_y(make_app, workers, keys):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "idle")
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmActionScreen)
        await pilot.press(*keys)
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmActionScreen)
        assert backend.calls == []


async def test_pause_dialog_y_pauses_and_yes_cannot_take_the_focus(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        idle = await ready(app, pilot, workers, "idle")
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("y")
        await settle(app, pilot)
        assert backend.calls == [("pause", idle)]


async def test_click_on_yes_confirms(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        idle = await ready(app, pilot, workers, "idle")
        await pilot.press("p")
        await pilot.pause()
        await pilot.click("#yes")
        await settle(app, pilot)
        assert backend.calls == [("pause", idle)]


# --- marks and the bulk pause -------------------------------------------------------------------


@pytest.mark.parametrize("keys", [("tab", "enter"), ("enter",), ("n",), ("escape",)])
async def test_bulk_pause_defaults_to_no(make_app, workers, keys):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, BulkPauseScreen)
        await pilot.press(*keys)
        await settle(app, pilot)
        assert backend.calls == []


async def test_pause_all_idle_lists_each_worker_with_its_burn(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        await pilot.press("P")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BulkPauseScreen)
        assert [d.name for d in screen.dtos] == ["cml-idle-03"]  # the fleet's one idle worker
        body = str(screen.query_one("#workers", Static).render())
        rate = money(running_rate(screen.dtos[0]))
        assert "cml-idle-03" in body and f"{rate}/h" in body and "Total burn stopped" in body
        await pilot.press("y")
        await settle(app, pilot)
        assert backend.calls == [("pause_many", by_name(workers, "idle").instance_id)]
        assert app.view.status_word(by_name(workers, "idle").instance_id) == "stopping…"


async def test_bulk_pause_of_marked_workers_one_stop_per_region_one_audit_line_each(
    make_app, workers, tmp_path
):
    app, backend = make_app()
    audit_path = tmp_path / "audit.jsonl"
    backend.audit = AuditLog(audit_path)
    async with app.run_test(size=SIZE) as pilot:
        marked = []
        await ready(app, pilot, workers)
        for role, key in (("idle", "space"), ("snooze", "v"), ("busy", "space")):
            app.table.move_to(by_name(workers, role).instance_id)
            await pilot.press(key)
            marked.append(by_name(workers, role).instance_id)
        assert app.table.marked == set(marked)
        assert "3 marked" in app.table.border_title
        await pilot.press("P")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BulkPauseScreen)
        assert {d.id for d in screen.dtos} == set(marked)
        assert "Pause 3 marked workers?" in screen.question
        await pilot.press("y")
        await settle(app, pilot)
        assert not app.table.marked  # marks are cleared once the pause is sent
    assert len([c for c in backend.calls if c[0] == "pause_many"]) == 1
    assert set(backend.calls[0][1:]) == set(marked)
    regions = {region: set(ids) for region, ids in backend.stop_instances_calls}
    expected = {w.region for w in workers if w.instance_id in marked}
    assert len(expected) == 2  # the fixture puts these three in two regions
    assert len(backend.stop_instances_calls) == 2 and set(regions) == expected
    assert set().union(*regions.values()) == set(marked)
    lines = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert sorted(line["instance_id"] for line in lines) == sorted(marked)


async def test_read_only_refuses_the_bulk_pause(make_app, workers):
    context = BackendContext(profile="ro", regions=("us-east-1",), read_only=True)
    app, backend = make_app(context=context)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        await pilot.press("P")
        await settle(app, pilot)
        assert not isinstance(app.screen, BulkPauseScreen)
        assert backend.calls == []
        assert ("warning", "read-only mode: pause not sent") in [
            (n.severity, n.message) for n in app._notifications
        ]


async def test_escape_clears_the_filter_then_the_marks(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")
        await pilot.press("space")
        await pilot.press("slash", *"cml-b", "enter")
        assert app.table.filter_text == "cml-b" and app.table.marked
        await pilot.press("escape")
        assert app.table.filter_text == "" and app.table.marked
        await pilot.press("escape")
        assert not app.table.marked


# --- the detail screen, open and copy -----------------------------------------------------------


async def test_enter_opens_the_detail_screen_and_escape_goes_back(make_app, workers, tmp_path):
    app, backend = make_app()
    backend.audit = AuditLog(tmp_path / "audit.jsonl")  # the backend reads it, not the screen
    busy = by_name(workers, "busy")
    backend.audit.record(
        at=busy.collected_at,
        operator="alice",
        action="toggle_idle_detection",
        worker_id=busy.instance_id,
        worker_name=busy.name,
        region=busy.region,
        result="ok",
    )
    backend.audit.record(
        at=busy.collected_at,
        operator="bob",
        action="pause",
        worker_id="i-someone-else",
        worker_name="other",
        region="us-east-1",
        result="ok",
    )
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, WorkerDetailScreen)
        await screen.workers.wait_for_complete()  # the audit entries, read off the UI thread
        await pilot.pause()
        dto = app.view.dto(busy.instance_id)

        def text(widget_id: str) -> str:
            console = Console(width=120, record=True)
            console.print(screen.query_one(widget_id, Static).content)
            return console.export_text()

        assert dto.https_endpoint in text("#addresses") and dto.public_ip in text("#addresses")
        assert f"ssh -p 1122 sysadmin@{dto.public_ip}" in text("#addresses")
        assert busy.instance_id in text("#identity") and "m5zn.metal" in text("#identity")
        assert "toggle_idle_detection" in text("#audit") and "alice" in text("#audit")
        assert "i-someone-else" not in text("#audit") and "bob" not in text("#audit")
        labs = screen.query_one(LabsTable)
        running_first = sorted(dto.labs, key=lambda lab: (lab.state != "STARTED", lab.title))
        lab_ids = [lab.id for lab in running_first]
        assert [key.value for key in labs.rows] == lab_ids  # running first, keyed by lab id
        assert "busy lab 1" in [str(labs.get_row(key)[0]) for key in labs.rows]
        assert screen.selected_lab_id == lab_ids[0]
        labs.focus()
        await pilot.press("down")
        assert screen.selected_lab_id == lab_ids[1]
        await cycle(app, pilot)  # a refresh keeps the lab under the cursor
        assert screen.selected_lab_id == lab_ids[1]
        screen.query_one("#worker-body").focus()
        assert backend.audit_reads == [busy.instance_id]
        await cycle(app, pilot)  # a snapshot reads no audit log
        await screen.workers.wait_for_complete()
        assert backend.audit_reads == [busy.instance_id]
        await pilot.press("p", "y")  # an action on this worker: its entries are read again
        await settle(app, pilot)
        await screen.workers.wait_for_complete()
        assert backend.audit_reads == [busy.instance_id] * 2
        await pilot.press("escape")
        assert not isinstance(app.screen, WorkerDetailScreen)


async def test_detail_screen_wraps_full_errors(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, workers, "down")
        await pilot.press("enter")
        await pilot.pause()
        errors = app.screen.query_one("#errors", Static)
        dto = app.view.dto(by_name(workers, "down").instance_id)
        message = next(iter(dto.errors.values()))
        assert message in str(errors.render()).replace("\n", "")
        assert errors.size.width < len(message) or errors.size.height >= 2


def test_open_shows_the_url_without_a_display_and_opens_with_one():
    assert not reach.has_display({"SSH_CONNECTION": "1 2 3 4", "DISPLAY": ":0"})
    assert reach.has_display({"DISPLAY": ":0"}) or reach.sys.platform in ("darwin", "win32")


async def test_o_opens_the_cml_ui_or_prints_the_url(make_app, workers, monkeypatch):
    app, _ = make_app()
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        url = app.view.dto(busy).https_endpoint
        monkeypatch.setenv("DISPLAY", ":0")
        monkeypatch.delenv("SSH_CONNECTION", raising=False)
        monkeypatch.delenv("SSH_TTY", raising=False)
        await pilot.press("o")
        assert opened == [url]
        monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5555 10.0.0.2 22")
        await pilot.press("o")
        await pilot.pause()
        assert opened == [url]  # not opened on a machine nobody looks at
        assert any(url in n.message for n in app._notifications)


async def test_y_offers_a_menu_and_copies_the_choice(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, CopyMenu)
        whats = [what for what, _ in app.screen.choices]
        assert whats[:4] == ["instance id", "CML URL", "public IP", "private IP"]
        await pilot.press("2")
        await pilot.pause()
        assert app.clipboard == app.view.dto(busy).https_endpoint
        await pilot.press("y", "enter")
        await pilot.pause()
        assert app.clipboard == busy


# --- conventions ------------------------------------------------------------------------------


async def test_ctrl_c_quits(make_app):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 130 and not app.is_running  # as ctrl+c on the command line


async def test_ctrl_c_quits_from_the_filter_input(make_app):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        assert app.query_one("#filter", Input).has_focus
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert not app.is_running


async def test_g_and_shift_g_and_reverse_sort(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        order = app.table.order
        await pilot.press("G")
        assert app.table.cursor_id == order[-1]
        await pilot.press("g")
        assert app.table.cursor_id == order[0]
        await pilot.press("S")
        assert app.table.order == order[::-1]
        assert "sort NAME▼" in app.table.border_title


async def test_header_click_sorts_and_again_reverses(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        x, _width = app.table.column_span("cpu")
        await pilot.click("#table", offset=(x + 1, 1))  # the border is row 0, titles row 1
        assert app.table.sort_key == "cpu" and app.table.sort_descending
        first = app.table.order
        await pilot.click("#table", offset=(x + 1, 1))
        assert app.table.sort_key == "cpu" and not app.table.sort_descending
        assert app.table.order != first


async def test_row_click_selects_that_row(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        order = app.table.order
        await pilot.click("#table", offset=(5, 2 + 3))  # border, titles, then rows 0..3
        assert app.table.cursor_id == order[3]


async def test_interval_follows_the_ladder(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        seen = []
        for _ in range(8):
            await pilot.press("plus")
            seen.append(app.backend.interval)
        assert seen == [15, 30, 60, 120, 300, 600, 600, 600]
        seen = []
        for _ in range(10):
            await pilot.press("minus")
            seen.append(app.backend.interval)
        assert seen == [300, 120, 60, 30, 15, 10, 5, 2, 2, 2]


# --- layout: columns by priority, the detail pane, the activity log ---------------------------


@pytest.mark.parametrize("width", [78, 100, 117])
def test_idle_and_cost_outlast_the_other_columns_down_to_80(width):
    keys = [column.key for column, _ in fit_columns(width)]
    assert {"name", "status", "idle", "cost"} <= set(keys)


def test_names_are_cut_at_the_end_unless_that_makes_them_alike():
    assert WorkerTable._fit("cml-nearpause-05", 12, "left") == "cml-nearpau…"
    assert WorkerTable._fit("cml-nearpause-05", 12, "left", 3) == "cml-near…-05"


async def test_names_keep_their_suffix_when_cut_names_would_look_alike(make_app, workers):
    for number, worker in enumerate(workers, start=1):
        worker.tags["Name"] = f"cml-shared-training-pool-{number:02d}"  # cut at the end: alike
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, workers)
        names = [app.table.row_text(worker_id).split()[0] for worker_id in app.table.order]
        assert len(set(names)) == len(names)
        assert all("…" in name and name[-2:].isdigit() for name in names)


async def test_detail_pane_gives_way_below_140_columns_and_d_brings_it_back(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, workers, "busy")
        detail = app.query_one("#detail")
        assert not detail.display
        await pilot.press("d")
        await pilot.pause()
        assert detail.display and detail.region.height > 0
        await pilot.press("d")
        await pilot.pause()
        assert not detail.display
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")
        assert app.query_one("#detail").display
        await pilot.press("d")
        await pilot.pause()
        assert not app.query_one("#detail").display


async def test_a_shows_the_activity_log_at_80x24_focused_and_scrollable(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, workers)
        log = app.activity_log
        assert log.region.height == 0 or not log.display or log.styles.display == "none"
        for n in range(60):
            app.note(f"line {n}")
        await pilot.press("a")
        await pilot.pause()
        assert log.display and log.region.height > 10 and log.has_focus
        log.scroll_home(animate=False)
        await pilot.press("down")
        await pilot.pause()
        assert log.scroll_offset.y >= 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.table.has_focus and not app.main_screen.has_class("-log-full")


async def test_check_rounds_are_one_line_and_actions_stand_out(make_app, workers, clock):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        log = app.activity_log
        before = len(log.lines)
        for worker in workers:
            backend.emit(
                ActivityUpdated(
                    worker_id=worker.instance_id,
                    last_activity_at=clock.now(),
                    last_activity_check_at=clock.now(),
                    next_idle_check_at=None,
                    target_pause_at=None,
                )
            )
        await pilot.pause()
        await pilot.press("p")  # a pause: the round is written first, then the pause
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        await pilot.pause(0.1)
        texts = [line.text for line in log.lines[before:]]
        assert len(texts) == 2, texts
        assert "activity checked on 12 workers" in texts[0]
        assert "pause" in texts[1] and "●" in texts[1]


# --- filter, theme, files, the error panel ----------------------------------------------------


async def test_filter_by_a_field_prefix(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        await pilot.press("slash", *"bob", "enter")
        plain = set(app.table.order)
        # bob owns one of busy's labs (not busy itself: `owner:` is the worker's owner)
        await pilot.press("escape", "slash", *"labowner:bob", "enter")
        owners = set(app.table.order)
        assert by_name(workers, "busy").instance_id in owners - plain
        assert "labowner:bob" in app.table.border_title


async def test_theme_is_saved_and_restored(make_app, tmp_path):
    settings = tmp_path / "config.toml"
    settings.write_text("# mine\n[ui]\nhistory_points = 30\n")
    app, _ = make_app()
    app.settings_path = settings
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "textual-light"
        await pilot.pause()
    saved = settings.read_text()
    assert "# mine" in saved and 'theme = "textual-light"' in saved and "history_points" in saved
    config = load_config(str(settings), env={})
    assert config.ui.theme == "textual-light"
    app, _ = make_app(config=config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"


def test_demo_keeps_its_own_audit_log_and_log_file():
    real, demo = default_audit_path(), default_audit_path(demo=True)
    assert real != demo and demo.parent.name == "demo" and demo.parent.parent == real.parent
    assert log_file_path(demo=True).parent.name == "demo"
    assert log_file_path(demo=True) != log_file_path()


async def test_help_says_where_the_demo_writes(make_app):
    context = BackendContext(profile=None, regions=("us-east-1",), demo=True)
    app, _ = make_app(context=context)
    async with app.run_test(size=SIZE):
        files = dict(app.file_locations())
        assert files["audit log (demo's own)"].endswith("demo/audit.jsonl")
        assert "demo" in files["log file (demo's own)"]


async def test_no_workers_and_region_errors_show_the_error_panel_until_data_comes(clock, workers):
    errors = ("us-east-1: access denied (UnauthorizedOperation)",)
    failing = True
    config = Config()

    def produce() -> FleetSnapshot:
        if failing:
            return FleetSnapshot(collected_at=clock.now(), workers=(), errors=errors)
        return snapshot(workers, clock.now(), config)

    backend = ScriptedBackend(produce, clock)
    app = CmltuiApp(backend, config, clock)
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        panel = str(app.query_one("#problem", Static).render())
        assert app.main_screen.has_class("-problem") and not app.table.display
        assert "access denied" in panel and "ec2:DescribeInstances" in panel
        assert "Still trying" in panel
        failing = False
        await app.backend.collect()
        await pilot.pause()
        assert not app.main_screen.has_class("-problem") and app.table.display
        assert len(app.table.order) == 12


def test_fixes_name_the_way_out_for_each_failure():
    assert "--profile" in fixes_for(["eu-west-1: no AWS credentials found"])[0]
    assert "endpoint_url" in fixes_for(["us-east-1: cannot reach endpoint https://x"])[0]
    assert "--region" in fixes_for(["ap-east-1: region not enabled for this account (X)"])[0]


async def test_a_failing_source_before_any_worker_fills_the_error_panel(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        backend.fail_next = RuntimeError("Unable to locate credentials")
        await app.backend.collect()
        await pilot.pause()
        panel = str(app.query_one("#problem", Static).render())
        assert app.main_screen.has_class("-problem")
        assert "Unable to locate credentials" in panel and "How to fix it" in panel
        await app.backend.collect()
        await pilot.pause()
        assert not app.main_screen.has_class("-problem") and len(app.table.order) == 12


def test_outside_text_in_the_new_widgets_is_shown_not_obeyed():
    hostile = "lab\x1b[31m red\u202e evil [bold]x[/] \x07"
    shown = shown_lines(hostile, indent=0)
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "␛" in shown and "[bold]x[/]" in shown
    assert shown_lines("line one\nline two", indent=2) == "line one\n  line two"
    assert len(shown_lines("x" * 10_000, indent=0)) <= 4001


def test_a_line_break_in_outside_text_never_makes_a_row_of_its_own():
    """An Owner tag or a CML error with a line break must not pass for one of the screen's
    own rows ("Detection   OFF") or headings ("How to fix it")."""
    from datetime import UTC, datetime

    from cmltui.api.backend import BackendContext
    from cmltui.tui.detail import errors_text, instance_text
    from cmltui.tui.problem import problem_text
    from tests.hostile_fields import hostile_dtos

    now = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    dto = hostile_dtos(now)[0].model_copy(
        update={
            "created_by": "eve\nDetection   OFF",
            "errors": {"cml": "boom\nssh         ssh root@evil"},
        }
    )
    lines = instance_text(dto, now).plain.splitlines() + errors_text(dto).plain.splitlines()
    assert not [line for line in lines if line.startswith(("Detection", "ssh"))]
    assert any(line.strip() == "Detection   OFF" for line in lines)  # shown, as data
    context = BackendContext(profile="p", regions=("us-east-1",))
    problem = problem_text(["us-east-1: denied\nHow to fix it"], context, "").plain.splitlines()
    assert problem.count("How to fix it") == 1


async def test_a_failed_bulk_pause_keeps_the_marks_and_says_why(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "idle")
        await pilot.press("v")
        backend.action_error = ActionFailed(
            "us-east-1: StopInstances failed: UnauthorizedOperation"
        )
        await pilot.press("P", "y")
        await settle(app, pilot)
        assert app.table.marked == {by_name(workers, "idle").instance_id}
        errors = [n for n in app._notifications if n.severity == "error"]
        assert [n.message for n in errors] == [
            "us-east-1: StopInstances failed: UnauthorizedOperation"
        ]
        assert app.operator.in_flight == set()


async def test_detail_screen_keys_act_on_its_worker_and_follow_remaps(make_app, workers):
    app, _ = make_app(config=Config(keys=KeysConfig(clipboard="c")))
    async with app.run_test(size=SIZE) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkerDetailScreen)
        sort_before = app.table.sort_key
        await pilot.press("s", "v", "slash")  # the table's own keys do nothing here
        assert app.table.sort_key == sort_before and not app.table.marked
        assert isinstance(app.screen, WorkerDetailScreen)
        shown = {
            b.action: app.get_key_display(b) for (_n, b, _e, _t) in app.active_bindings.values()
        }
        assert shown["app.clipboard"] == "c"
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CopyMenu)
        await pilot.press("1")
        await pilot.pause()
        assert app.clipboard == busy
        assert isinstance(app.screen, WorkerDetailScreen)


async def test_a_worker_whose_idle_state_is_unknown_never_reads_active(make_app, workers):
    """Its telemetry was never read: `?` in the table and in the bulk dialog, and the idle
    panel says why; only a worker known to be busy reads "active"."""
    unknown = by_name(workers, "busy")
    unknown.activity.last_activity_check_at = None
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")
        x, width = app.table.column_span("idle")
        assert app.table.row_text(unknown.instance_id)[x : x + width].strip() == "?"
        idle_panel = app.query_one("#idle", IdleStatusPanel).plain()
        assert "Idle for    — (unknown: activity not read yet)" in idle_panel
        for role in ("busy", "eval"):  # one unknown, one active
            app.table.move_to(by_name(workers, role).instance_id)
            await pilot.press("space")
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, BulkPauseScreen)
        lines = str(app.screen.query_one("#workers", Static).render()).splitlines()
        words = {line.split()[0]: line.split()[2] for line in lines if line.startswith("cml-")}
        assert words == {"cml-busy-01": "?", "cml-eval-10": "active"}
        await pilot.press("escape")


async def test_sort_toast_and_title_use_the_header_names_and_say_when_it_is_hidden(
    make_app, workers
):
    app, _ = make_app()
    async with app.run_test(size=(200, 48)) as pilot:
        await ready(app, pilot, workers)
        await pilot.press("s", "s")
        await pilot.pause()
        assert app.table.sort_key == "service"
        assert "sort CML▲" in app.table.border_title
        assert "Sorted by CML ▲" in [n.message for n in app._notifications]
        while app.table.sort_key != "cost":
            await pilot.press("s")
        assert "sort $/H▼" in app.table.border_title
        while app.table.sort_key != "type":
            await pilot.press("s")
        assert "column hidden" not in app.table.border_title
        await pilot.resize_terminal(80, 24)  # the TYPE column does not fit any more
        await pilot.pause()
        assert app.table.sort_hidden and "sort TYPE▲ (column hidden)" in app.table.border_title
        await pilot.press("S")
        await pilot.pause()
        assert "Sorted by TYPE ▼ (a column this width hides)" in [
            n.message for n in app._notifications
        ]
        await pilot.press("s")  # on to the next shown column: round to NAME
        assert app.table.sort_key == "name" and not app.table.sort_hidden


async def test_on_help_and_cost_only_what_needs_no_worker_works(make_app, workers):
    """Help and cost are the `info` scope: a worker's action does nothing there; on the cost
    screen (a full screen, not a dialog) refresh and the interval keys still do."""
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")
        for opener in ("question_mark", "dollar_sign"):
            await pilot.press(opener)
            await pilot.pause()
            screen = app.screen
            await pilot.press("p", "i", "space", "s", "P")
            await pilot.pause()
            assert app.screen is screen and backend.calls == [] and not app.table.marked
            assert app.table.sort_key == "name"
            if opener == "dollar_sign":
                await pilot.press("R", "plus")
                assert backend.refreshes == 1 and app.backend.interval == 15
                titles = {c.title.split("  (")[0] for c in app.get_system_commands(screen)}
                assert "Refresh now" in titles and "Pause worker" not in titles
            await pilot.press("escape")
            await pilot.pause()
        titles = {c.title.split("  (")[0] for c in app.get_system_commands(app.main_screen)}
        assert "Pause worker" in titles and "Mark worker" in titles
