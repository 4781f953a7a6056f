"""Repainting only what changed: the cells diff, the table's visible-line diff, header and panels.

The screen is read back from Textual's compositor, which reuses each widget's cached lines for
anything not marked dirty: a change the diff missed shows up as a stale line here.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Region

from cmltui.config import Config
from cmltui.tui.app import CmltuiApp
from cmltui.tui.columns import matches
from cmltui.tui.header import FleetHeader
from cmltui.tui.panels import GaugesPanel, HealthPanel, Panel, SparklinesPanel
from cmltui.tui.repaint import (
    ShownText,
    changed_regions,
    changed_span,
    changed_text_regions,
    lines_of,
    text_cells,
)
from tests.tui.pilot_helpers import screen_lines
from tests.tui.tui_fleet import LICENSES, build_workers, by_name, snapshot

WIDE = (160, 48)
COMPACT = (80, 24)


def _row_on_screen(app: CmltuiApp, name: str) -> list[str] | None:
    """The words of the table line showing `name` (cursor mark stripped), or None."""
    for line in screen_lines(app):
        words = line.replace(">", " ").split()
        if name in words:
            return words[words.index(name) :]
    return None


def _line_of(app: CmltuiApp, worker_id: str) -> int:
    table = app.table
    return table.order.index(worker_id) + 1 - int(table.scroll_offset.y)


async def _cycle(app: CmltuiApp, pilot) -> None:
    await app.backend.collect()
    await pilot.pause()


# --- the cells diff -----------------------------------------------------------------------------


def test_changed_span_is_the_smallest_differing_run():
    old = text_cells(Text("updated 14:00:00 · every 10s"))
    new = text_cells(Text("updated 14:00:10 · every 10s"))
    assert changed_span(old, new) == (14, 15)
    assert changed_span(old, old) is None
    # A shorter line leaves blanks to paint where the old one was longer.
    assert changed_span(text_cells(Text("up 4h41m")), text_cells(Text("up 5m"))) == (3, 8)
    # The same text in another style is a change.
    styled = Text("93%")
    styled.stylize("bold red", 0, 2)
    assert changed_span(text_cells(Text("93%")), text_cells(styled)) == (0, 2)


def test_wide_characters_count_two_cells():
    old, new = text_cells(Text("名前 12")), text_cells(Text("名前 13"))
    assert len(old) == 7
    assert changed_span(old, new) == (6, 7)


def test_changed_regions_per_line_or_everything():
    old = lines_of(Text("a 1\nb 2\nc 3"))
    assert changed_regions(old, lines_of(Text("a 1\nb 9\nc 3")), 40) == [Region(2, 1, 1, 1)]
    assert changed_regions(old, old, 40) == []
    assert changed_regions(old, lines_of(Text("a 1\nb 2")), 40) is None  # height changed
    assert changed_regions(None, old, 40) is None  # first paint
    long = lines_of(Text("a 1\nb 2\n" + "c" * 20))
    beyond = lines_of(Text("a 1\nb 2\n" + "c" * 15 + "d" * 5))
    assert changed_regions(long, beyond, 10) == []  # only past the right edge


def test_a_shown_text_is_split_only_when_it_differs():
    def panel(cpu: str, style: str = "green") -> Text:
        text = Text("CPU ")
        text.append(cpu, style=style)
        text.append("\nmem 45%\ndisk 12%")
        return text

    before = ShownText(panel("93%"))
    same = ShownText(panel("93%"))  # built again: equal, not the same object
    assert changed_text_regions(before, same, 40) == []
    assert before._lines is None and same._lines is None  # compared whole, never split
    assert changed_text_regions(before, ShownText(panel("94%")), 40) == [Region(5, 0, 1, 1)]
    assert changed_text_regions(before, ShownText(panel("93%", "red")), 40) == [
        Region(4, 0, 3, 1)
    ]  # a style is a change too
    assert changed_text_regions(None, same, 40) is None  # first paint
    assert changed_text_regions(before, ShownText(Text("CPU 93%")), 40) is None  # height
    assert (before.height, ShownText(Text("one line")).height) == (3, 1)


def test_filter_sees_a_changed_field_of_the_same_worker():
    workers = build_workers()
    evaluation = by_name(workers, "eval")
    dto = next(d for d in snapshot(workers).workers if d.id == evaluation.instance_id)
    assert matches(dto, "EVALUATION")
    evaluation.cml.licensing = LICENSES["registered"]
    again = next(d for d in snapshot(workers).workers if d.id == evaluation.instance_id)
    assert not matches(again, "evaluation")  # the cached words of that worker are not reused
    assert matches(again, "registered")
    assert matches(dto, "evaluation")


# --- the table ------------------------------------------------------------------------------


async def test_changed_value_repaints_only_its_cell_and_shows_it(make_app, workers, clock):
    app, _ = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await _cycle(app, pilot)
        table = app.table
        labs = by_name(workers, "labs")
        assert _row_on_screen(app, "cml-labs-02")[3] == "61"
        labs.cml.system_info["cpu_percent"] = 7.0
        clock.advance(10)
        labs.cml.stats_synced_at = clock.now()
        await _cycle(app, pilot)

        x, width = table.column_span("cpu")
        y = _line_of(app, labs.instance_id)
        assert Region(x, y, width, 1) in table.regions_refreshed
        assert [r for r in table.regions_refreshed if r.y == y] == [Region(x, y, width, 1)]
        assert _row_on_screen(app, "cml-labs-02")[3] == "7"
        # The other repainted line is the degraded worker's stale age, its CML cell only.
        degraded = _line_of(app, by_name(workers, "degraded").instance_id)
        service_x, service_width = table.column_span("service")
        assert {r.y for r in table.regions_refreshed} == {y, degraded}
        assert [r for r in table.regions_refreshed if r.y == degraded] == [
            Region(service_x, degraded, service_width, 1)
        ]
        assert _row_on_screen(app, "cml-degraded-08")[2:5] == ["degr", "50s", "old"]


async def test_quiet_refresh_repaints_nothing_and_then_only_the_clock(make_app, workers, clock):
    app, _ = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await _cycle(app, pilot)
        header = app.query_one(FleetHeader)
        before = screen_lines(app)
        await _cycle(app, pilot)  # the same collection again: nothing changed
        assert app.table.lines_refreshed == 0 and app.table.regions_refreshed == []
        assert header.regions_refreshed == [] and header.stamp.regions_refreshed == []
        assert all(panel.regions_refreshed == [] for panel in app.query(Panel))
        assert screen_lines(app) == before

        clock.advance(10)
        await _cycle(app, pilot)
        assert header.regions_refreshed == []  # the totals did not change
        [tick] = header.stamp.regions_refreshed  # 14:00:00 -> 14:00:10: one cell
        assert tick.width == 1
        assert "updated 14:00:10 · every 10s" in screen_lines(app)[0]
        # A new collection adds a history point: the sparklines move, the gauges stay.
        assert app.query_one("#gauges", GaugesPanel).regions_refreshed == []
        sparks = app.query_one("#sparklines", SparklinesPanel)
        assert [r.y for r in sparks.regions_refreshed] == [0, 1, 2]
        assert all(r.width == 1 for r in sparks.regions_refreshed)  # one new point each
        cpu_spark = sparks.plain().splitlines()[0]
        assert len(cpu_spark.strip()) == 2 and any(
            cpu_spark.strip() in line for line in screen_lines(app)
        )


async def test_off_screen_change_shows_when_scrolled_to(make_app, workers, clock):
    app, _ = make_app()
    async with app.run_test(size=COMPACT) as pilot:
        await _cycle(app, pilot)
        await pilot.press("d")  # the detail pane below the table leaves it a few lines
        await pilot.pause()
        table = app.table
        last = table.order[-1]
        unreg = by_name(workers, "unreg")
        assert last == unreg.instance_id
        assert _line_of(app, last) > table.size.height - 1  # below the visible lines
        assert _row_on_screen(app, "cml-unreg-12") is None

        unreg.cml.system_info["cpu_percent"] = 77.0
        clock.advance(10)
        unreg.cml.stats_synced_at = clock.now()
        await _cycle(app, pilot)
        assert all(r.y < table.size.height for r in table.regions_refreshed)

        await pilot.press("end")
        await pilot.pause()
        assert _row_on_screen(app, "cml-unreg-12")[3] == "77!"


async def test_cursor_move_repaints_both_lines(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await _cycle(app, pilot)
        first, second = app.table.order[:2]
        await pilot.press("down")
        await pilot.pause()
        assert app.table.cursor_id == second
        screen = screen_lines(app)
        names = {d.id: d.name for d in app.latest.workers}
        assert any(line.lstrip("│ ").startswith(f"> {names[second]}") for line in screen)
        assert not any(f"> {names[first]}" in line for line in screen)
        # A snapshot after the move finds nothing to repaint (the painted cursor is known).
        await _cycle(app, pilot)
        assert app.table.lines_refreshed == 0


async def test_resorted_rows_repaint_whole_lines_in_the_new_order(make_app, workers, clock):
    app, _ = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await _cycle(app, pilot)
        table = app.table
        while table.sort_key != "cpu":
            table.cycle_sort()
        await pilot.pause()
        eval_worker = by_name(workers, "eval")
        eval_worker.cml.system_info["cpu_percent"] = 99.0
        clock.advance(10)
        eval_worker.cml.stats_synced_at = clock.now()
        await _cycle(app, pilot)
        assert table.order[0] == eval_worker.instance_id
        moved = [r for r in table.regions_refreshed if r.width == table.size.width]
        assert len(moved) >= 2  # the rows that shifted down are repainted whole
        names = {d.id: d.name for d in app.latest.workers}
        shown = [
            words[0]
            for line in screen_lines(app)
            if (words := line.replace(">", " ").replace("│", " ").split())
            and words[0] in names.values()
        ]
        assert shown == [names[w] for w in table.order]


# --- panels ---------------------------------------------------------------------------------


async def test_panel_repaints_only_the_line_that_changed(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await _cycle(app, pilot)
        health = app.query_one("#health", HealthPanel)
        busy = by_name(workers, "busy")
        assert app.table.cursor_id == busy.instance_id
        lines = health.plain().splitlines()
        labs_y = next(i for i, line in enumerate(lines) if line.startswith("Labs"))
        assert "31 nodes up" in lines[labs_y]

        busy.cml.system_info["running_nodes"] += 1
        busy.cml.system_info["computes"]["c1"]["running_nodes"] += 1
        await _cycle(app, pilot)  # the same collection time: no new sparkline point
        after = health.plain().splitlines()[labs_y]
        assert "32 nodes up" in after
        differ = [i for i, (a, b) in enumerate(zip(lines[labs_y], after, strict=True)) if a != b]
        [region] = health.regions_refreshed
        assert region.y == labs_y and region.height == 1
        assert region.x <= min(differ) and max(differ) < region.right  # covers the change
        assert region.width < len(after)  # the changed digits, not the line
        assert app.query_one("#gauges", GaugesPanel).regions_refreshed == []
        assert any("32 nodes up" in line for line in screen_lines(app))


async def test_every_widget_reads_the_one_view_model_and_its_one_map(make_app):
    app, _ = make_app(config=Config())
    async with app.run_test(size=WIDE) as pilot:
        await _cycle(app, pilot)
        views = {id(panel._view) for panel in app.query(Panel)}
        views |= {id(app.table._view), id(app.activity_log._view)}
        assert views == {id(app.view)}
        assert app.table._dtos is app.view.by_id  # one id map per snapshot, built once
        assert len(app.view.by_id) == 12


async def test_each_panel_builds_once_per_snapshot(make_app):
    """A panel subscribed twice (or rendering a second build) would double a cycle's cost."""
    app, _ = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await _cycle(app, pilot)
        builds: dict[str, int] = {}
        for panel in app.query(Panel):

            def counting(width: int, panel: Panel = panel, build=panel.build) -> Text:
                builds[panel.id or ""] = builds.get(panel.id or "", 0) + 1
                return build(width)

            panel.build = counting  # type: ignore[method-assign]
        await _cycle(app, pilot)
        assert builds == dict.fromkeys(
            ("gauges", "sparklines", "health", "idle", "pause", "labs"), 1
        )
