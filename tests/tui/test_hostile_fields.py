"""Every text field of the worker DTO, filled with the hostile corpus, on every screen.

The fields are found from `CMLWorkerDto` itself (`tests.hostile_fields.text_paths`), and the
test first checks that the hostile workers (built by both mappers) really carry corpus text in
each one: a text field added later fails here until it is fed. Then the table, the detail pane
and its title, the detail screen, the pause dialog, the copy menu, `o`'s toast, the cost screen,
help and `snapshot --format table` are drawn and every byte for the terminal is checked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cmltui.api.events import FleetSnapshot
from cmltui.cli.table import render_table
from cmltui.config import Config
from cmltui.tui.app import CmltuiApp
from cmltui.tui.cost_screen import CostScreen
from cmltui.tui.detail import WorkerDetailScreen
from cmltui.tui.reach import CopyMenu
from tests.hostile_corpus import CORPUS, control_problems
from tests.hostile_fields import ANY, ITEMS, KEYS, VALUES, hostile_dtos, text_paths, uncovered
from tests.tui.test_hostile_text import SIZE, assert_inert
from tests.tui.tui_backend import ScriptedBackend

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_text_fields_are_found_from_the_model():
    paths = text_paths()
    # A sample of what must be among them, at every depth and shape.
    assert {("id",), ("name",), ("aws_region",), ("https_endpoint",), ("paused_by",)} <= paths
    assert {("aws_tags", KEYS), ("aws_tags", VALUES), ("errors", VALUES)} <= paths
    assert {("labs", ITEMS, "title"), ("labs", ITEMS, "owner"), ("recent_users", ITEMS)} <= paths
    assert {("cml_license_info", VALUES, ANY), ("savings", "basis", ITEMS)} <= paths
    assert len(paths) >= 30


def test_the_corpus_fills_every_dto_text_field():
    assert uncovered(hostile_dtos(NOW)) == {}


def test_snapshot_table_of_hostile_fields_is_inert():
    dtos = hostile_dtos(NOW)
    out = render_table(FleetSnapshot(collected_at=NOW, workers=tuple(dtos), errors=()))
    assert control_problems(out) == []


async def test_every_text_field_is_inert_on_every_screen(clock, monkeypatch):
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5555 10.0.0.2 22")  # `o` shows, not opens
    dtos = hostile_dtos(clock.now())
    fleet = FleetSnapshot(
        collected_at=clock.now(), workers=tuple(dtos), errors=tuple(CORPUS[10:14])
    )
    backend = ScriptedBackend(lambda: fleet, clock)
    app = CmltuiApp(backend, Config(), clock)
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        assert_inert(app, "table and header")
        assert len(app.table.order) == len(dtos)
        for dto in dtos:
            app.table.move_to(dto.id)
            await pilot.pause()
            assert_inert(app, f"detail pane of {dto.id!r}")

            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, WorkerDetailScreen)
            assert_inert(app, f"detail screen of {dto.id!r}")
            for _ in range(4):  # the rest of the page: labs, audit, errors, facts, tags
                await pilot.press("pagedown")
                await pilot.pause()
                assert_inert(app, f"detail screen of {dto.id!r}, further down")
            await pilot.press("escape")
            await pilot.pause()

            await pilot.press("y")
            await pilot.pause()
            assert isinstance(app.screen, CopyMenu)
            assert_inert(app, f"copy menu of {dto.id!r}")
            await pilot.press("1")  # the id, copied as shown
            await pilot.pause()
            assert_inert(app, f"copied toast of {dto.id!r}")

            await pilot.press("o")
            await pilot.pause()
            assert_inert(app, f"o on {dto.id!r}")

            await pilot.press("p")
            await pilot.pause()
            assert_inert(app, f"pause dialog of {dto.id!r}")
            await pilot.press("escape")
            await pilot.pause()
            app.clear_notifications()

        await pilot.press("dollar_sign")
        await pilot.pause()
        assert isinstance(app.screen, CostScreen)
        assert_inert(app, "cost screen")
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert_inert(app, "help")
        assert app.is_running
