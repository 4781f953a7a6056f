"""Pilot tests of the operator's actions over the scripted backend.

Pause and resume ask first, with No as the default; preconditions, read-only mode and an action
already in flight refuse with a message and send nothing; refusals and failures leave the
screen as it was.
"""

from __future__ import annotations

import asyncio

from cmltui.api.backend import ActionFailed, ActionRefused, BackendContext
from cmltui.config import Config, KeysConfig
from cmltui.tui.confirm import ConfirmActionScreen
from cmltui.tui.help import keys_table
from cmltui.tui.panels import PausePanel
from tests.tui.pilot_helpers import messages, ready, settle
from tests.tui.tui_fleet import by_name

SIZE = (160, 48)


async def test_pause_dialog_names_worker_labs_and_users_and_defaults_to_no(make_app, workers):
    # cml-busy-01 is in eu-west-1: its price comes from the config, never from us-east-1's table
    app, backend = make_app(Config.model_validate({"prices": {"eu-west-1": {"m5zn.metal": 4.36}}}))
    async with app.run_test(size=SIZE) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConfirmActionScreen)
        assert app.focused is not None and app.focused.id == "no"
        body = str(screen.query_one("#details").render())
        assert "Pause cml-busy-01?" in str(screen.query_one("#question").render())
        assert busy in body and "m5zn.metal · $4.36/h" in body
        assert "3 · 31 nodes" in body  # started labs only (the fourth is stopped)
        for title, owner, nodes in (("busy lab 1", "bob", 14), ("busy lab 2", "alice", 4)):
            line = next(line for line in body.splitlines() if title in line)
            assert owner in line and f"{nodes} nodes" in line
        assert "busy lab 4" not in body
        assert "Users seen   u-alice, bob, alice" in body  # recent users, then lab owners

        await pilot.press("enter")  # Enter presses the focused No
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmActionScreen)
        assert backend.calls == []
        assert ("information", "Pause of cml-busy-01 cancelled.") in messages(app)
        assert app.view.status_word(busy) == "running"


async def test_escape_and_n_cancel_y_confirms(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        for key in ("escape", "n"):
            await pilot.press("p")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmActionScreen)
            await pilot.press(key)
            await settle(app, pilot)
            assert not isinstance(app.screen, ConfirmActionScreen)
        assert backend.calls == []

        await pilot.press("p", "y")
        await settle(app, pilot)
        assert backend.calls == [("pause", busy)]
        assert app.view.status_word(busy) == "stopping…"
        assert "State       stopping…" in app.query_one("#pause", PausePanel).plain()
        assert ("information", "Pause sent: cml-busy-01 is stopping") in messages(app)
        assert "cml-busy-01: pause (manual) by tester" in "\n".join(
            str(line.text) for line in app.activity_log.lines
        )
        # the row shows stopping…: a second p is refused without a dialog
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmActionScreen)
        assert ("warning", "cml-busy-01 is already stopping") in messages(app)


async def test_yes_button_resumes_a_stopped_worker(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        stopped = await ready(app, pilot, workers, "stopped")
        await pilot.press("r")
        await pilot.pause()
        body = str(app.screen.query_one("#details").render())
        assert "Resume cml-stopped-06?" in str(app.screen.query_one("#question").render())
        assert "billing resumes at $3.96/h" in body  # the type's price, not the stopped $0
        assert "Last pause   10:00 by bob (manual)" in body
        await pilot.press("left")  # Yes never takes the focus: Enter stays No
        assert app.focused is not None and app.focused.id == "no"
        await pilot.click("#yes")  # a click on Yes confirms
        await settle(app, pilot)
        assert backend.calls == [("resume", stopped)]
        assert app.view.status_word(stopped) == "starting…"


async def test_status_preconditions_refuse_without_a_dialog(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "stopped")
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmActionScreen)
        assert ("warning", "cml-stopped-06 is already stopped") in messages(app)
        app.table.move_to(by_name(workers, "busy").instance_id)
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmActionScreen)
        assert ("warning", "cml-busy-01 is already running") in messages(app)
        assert backend.calls == []


async def test_second_press_while_in_flight_is_ignored_with_a_message(make_app, workers):
    app, backend = make_app()
    backend.action_gate = asyncio.Event()
    async with app.run_test(size=SIZE) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        await pilot.press("p", "y")
        await pilot.pause()
        assert app.operator.in_flight == {busy}
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmActionScreen)
        await pilot.press("i")
        await pilot.pause()
        in_flight = "cml-busy-01: an action is already in flight; wait for it"
        assert messages(app).count(("warning", in_flight)) == 2
        backend.action_gate.set()
        await settle(app, pilot)
        assert backend.calls == [("pause", busy)]
        assert app.operator.in_flight == set()


async def test_keys_under_an_open_dialog_do_not_reach_the_dashboard(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")
        await pilot.press("p")
        await pilot.pause()
        sort_before = app.table.sort_key
        await pilot.press("p", "i", "s", "r")
        await pilot.pause()
        assert len(app.screen_stack) == 2  # no second dialog
        assert app.table.sort_key == sort_before
        await pilot.press("escape")
        await settle(app, pilot)
        assert backend.calls == []


async def test_read_only_mode_sends_nothing(make_app, workers):
    context = BackendContext(profile="ro", regions=("us-east-1",), read_only=True)
    app, backend = make_app(context=context)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")
        header = app.query_one("#header").render()
        assert "READ-ONLY" in str(header)
        await pilot.press("p", "i")
        app.table.move_to(by_name(workers, "stopped").instance_id)
        await pilot.pause()
        await pilot.press("r")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmActionScreen)
        assert backend.calls == []
        warnings = [m for s, m in messages(app) if s == "warning"]
        assert warnings == [
            "read-only mode: pause not sent",
            "read-only mode: toggle idle detection not sent",
            "read-only mode: resume not sent",
        ]
        # What the state says comes first: `r` on a running worker is already running.
        app.table.move_to(by_name(workers, "busy").instance_id)
        await pilot.pause()
        await pilot.press("r")
        await settle(app, pilot)
        assert messages(app)[-1] == ("warning", "cml-busy-01 is already running")
        assert backend.calls == []


async def test_refused_and_failed_actions_leave_the_screen_unchanged(make_app, workers):
    app, backend = make_app()
    async with app.run_test(size=SIZE) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        pause_panel = app.query_one("#pause", PausePanel)
        row, panel = app.table.row_text(busy), pause_panel.plain()

        backend.action_error = ActionRefused("cml-busy-01: an action is already in flight")
        await pilot.press("p", "y")
        await settle(app, pilot)
        assert ("warning", "cml-busy-01: an action is already in flight") in messages(app)

        backend.action_error = ActionFailed("cml-busy-01: pause failed: UnauthorizedOperation")
        await pilot.press("p", "y")
        await settle(app, pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert [n.message for n in errors] == ["cml-busy-01: pause failed: UnauthorizedOperation"]
        assert errors[0].title == "Pause failed"

        backend.action_error = RuntimeError("socket closed")
        await pilot.press("p", "y")
        await settle(app, pilot)
        assert ("error", "socket closed") in messages(app)

        assert len(backend.calls) == 3
        assert app.table.row_text(busy) == row and pause_panel.plain() == panel
        assert app.view.status_word(busy) == "running"
        assert app.operator.in_flight == set()
        assert len(app._recent_events) == 0  # nothing was published


async def test_history_tag_warning_from_the_core_is_shown_once(make_app, workers):
    app, backend = make_app()
    backend.warnings.append("cml-idle-03: history tags not written (an auto-pause)")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")  # a cycle shows what is new
        backend.warn_next = ["cml-busy-01: history tags not written: AccessDenied"]
        await pilot.press("p", "y")
        await settle(app, pilot)
        await app.backend.collect()
        await pilot.pause()
        warnings = [m for s, m in messages(app) if s == "warning"]
        assert warnings == [
            "cml-idle-03: history tags not written (an auto-pause)",
            "cml-busy-01: history tags not written: AccessDenied",
        ]
        assert app.view.status_word(by_name(workers, "busy").instance_id) == "stopping…"


async def test_remapped_pause_key(make_app, workers):
    app, backend = make_app(config=Config(keys=KeysConfig(pause="x", resume="u")))
    async with app.run_test(size=SIZE) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        await pilot.press("p")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmActionScreen)
        await pilot.press("x", "y")
        await settle(app, pilot)
        assert backend.calls == [("pause", busy)]


def test_help_lists_pause_and_resume_keys():
    from rich.console import Console

    console = Console(width=100, record=True)
    console.print(keys_table(KeysConfig()))
    text = console.export_text()
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert "pause the selected worker (asks first)" in lines["p"]
    assert "resume the selected worker (asks first)" in lines["r"]
    assert "toggle idle detection" in lines["i"]


async def test_a_cancelled_bulk_pause_counts_in_words(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers, "busy")
        await pilot.press("space", "P")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert messages(app)[-1] == ("information", "Pause of 1 worker cancelled.")


async def test_the_confirmation_shows_a_cloud_manager_id_and_region_whole(make_app, workers):
    """Cloud Manager names a worker by a 36-character id: the Instance line must not be cut."""
    from rich.cells import cell_len

    from cmltui.tui.confirm import dialog_body

    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        worker_id = await ready(app, pilot, workers, "idle")
        dto = app.view.dto(worker_id).model_copy(
            update={"id": "0f8c2a4e-6b1d-4c3a-9e7f-2d5b8a1c6e90", "aws_region": "ap-southeast-2"}
        )
        await app.push_screen(ConfirmActionScreen(dto, "pause", app.clock.now()))
        await pilot.pause()
        lines = dialog_body(dto, "pause", app.clock.now()).plain.splitlines()
        instance = next(line for line in lines if line.startswith("Instance"))
        assert dto.id in instance and "ap-southeast-2" in instance
        details = app.screen.query_one("#details")
        assert details.content_region.width >= cell_len(instance)
