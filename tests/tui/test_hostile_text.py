"""The hostile corpus through every text path of the dashboard.

Names (the `Name` tag), lab titles and owners, CML version, errors, `paused_by`, region errors,
action failures, warnings, the filter: each reaches the table, the detail pane and its border
title, the confirmation dialog, toasts, the activity log or help. After each step the bytes the
app would write to the terminal are checked: nothing but colours and cursor moves.
"""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console
from textual import events
from textual.widgets import Input

from cmltui.api.backend import ActionFailed
from cmltui.api.events import ActivityUpdated
from cmltui.config import Config
from cmltui.tui.app import CmltuiApp
from tests.hostile_corpus import CORPUS, control_problems
from tests.tui.tui_backend import ScriptedBackend
from tests.tui.tui_fleet import build_workers, snapshot

SIZE = (160, 48)


def terminal_stream(app: CmltuiApp) -> str:
    """What the app would write to the terminal for a full repaint of the current screen."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update.render_segments(console)


def assert_inert(app: CmltuiApp, where: str) -> None:
    stream = terminal_stream(app)
    problems = control_problems(stream)
    assert problems == [], f"{where}: {problems[:3]}"
    assert app.is_running and app.return_code is None, f"{where}: the app stopped"


def hostile_workers():
    workers = build_workers()
    n = len(CORPUS)
    for i, worker in enumerate(workers):
        name = f"{CORPUS[i % n]}-{i}"
        worker.name = name
        worker.tags["Name"] = name
        worker.cml.version = CORPUS[(i + 1) % n]
        worker.errors["cml"] = CORPUS[(i + 2) % n]
        worker.history.last_paused_by = CORPUS[(i + 3) % n]
        worker.history.last_paused_at = worker.launch_time
        worker.ec2_state_detail = CORPUS[(i + 4) % n]
        worker.cml.labs = [
            replace(
                lab,
                title=CORPUS[(i + j + 5) % n],
                owner_username=CORPUS[(i + j + 6) % n],
                state="STARTED" if j % 2 == 0 else CORPUS[(i + j + 7) % n],
            )
            for j, lab in enumerate(worker.cml.labs or [])
        ]
    return workers


async def test_every_text_path_survives_the_corpus(clock):
    workers = hostile_workers()
    config = Config()
    backend = ScriptedBackend(
        lambda: snapshot(workers, clock.now(), config, errors=tuple(CORPUS[:4])), clock
    )
    app = CmltuiApp(backend, config, clock)
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        assert_inert(app, "first snapshot (table, header, toasts of region errors)")

        # The detail pane (and its border title) for every worker.
        for index in range(len(workers)):
            await pilot.press("down" if index else "home")
            await pilot.pause()
            assert_inert(app, f"detail of worker {index}")
        detail = app.query_one("#detail")
        # A name holding `[@click=…]` is shown as text, never as an action.
        title = detail._border_title
        assert title is not None
        assert all("@click" not in str(span.style) for span in title.spans)

        # The operator's filter is shown in the table's border title.
        for text in CORPUS[:8]:
            app.table.set_filter(text)
            await pilot.pause()
            assert_inert(app, f"filter {text!r}")
        app.table.set_filter("")
        await pilot.pause()

        # Typed or pasted into the filter box itself.
        await pilot.press("slash")
        await pilot.pause()
        box = app.query_one("#filter", Input)
        for text in CORPUS[:12]:
            box.post_message(events.Paste(text))
            await pilot.pause()
            assert_inert(app, f"pasted into the filter {text!r}")
            box.value = ""
        for key in ("ctrl+u", "escape"):
            await pilot.press(key)
        await pilot.pause()

        # The confirmation dialog, then an action that fails with a hostile AWS message.
        await pilot.press("home")
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert_inert(app, "pause dialog")
        backend.action_error = ActionFailed(CORPUS[1] + CORPUS[6] + CORPUS[-1])
        backend.warn_next = [CORPUS[0], CORPUS[7]]
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert_inert(app, "failed action toast and activity log")

        # Activity events name workers in the activity log.
        for dto in app.latest.workers[:6]:
            backend.emit(
                ActivityUpdated(
                    worker_id=dto.id,
                    last_activity_at=clock.now(),
                    last_activity_check_at=clock.now(),
                    next_idle_check_at=None,
                    target_pause_at=None,
                )
            )
        await pilot.pause()
        assert_inert(app, "activity log")

        # A failed collection with a hostile message: toast and log line.
        backend.fail_next = RuntimeError(CORPUS[2] + CORPUS[5])
        await app.backend.collect()
        await pilot.pause()
        assert_inert(app, "failed collection toast")

        await pilot.press("question_mark")
        await pilot.pause()
        assert_inert(app, "help")
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running


async def test_markup_names_are_text_in_titles_and_toasts(clock):
    """`[/]` once crashed the app at start; `[@click=app.quit]` once quit it on a click."""
    workers = build_workers()
    workers[0].tags["Name"] = "[/]"
    workers[1].tags["Name"] = "[@click=app.quit]x[/]"
    config = Config()
    backend = ScriptedBackend(lambda: snapshot(workers, clock.now(), config), clock)
    app = CmltuiApp(backend, config, clock)
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        shown = []
        for _ in range(len(workers)):
            title = app.query_one("#detail")._border_title.plain
            shown.append(title)
            if title.startswith("[@click"):
                # A click on the title (where the action would be) does nothing.
                for x in range(2, 12):
                    await pilot.click("#detail", offset=(x, 0))
                    await pilot.pause()
                assert app.is_running
            await pilot.press("down")
            await pilot.pause()
        assert any(text.startswith("[/] · ") for text in shown)
        assert any(text.startswith("[@click=app.quit]x[/] · ") for text in shown)
        app.notify("[/] [@click=app.quit]q[/]", title="[/]")
        await pilot.pause()
        notes = list(app._notifications)
        assert notes and not notes[-1].markup
        assert notes[-1].message == "[/] [@click=app.quit]q[/]"
        assert app.is_running
