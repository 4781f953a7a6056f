"""The worker detail screen as an operator's page: what they act on first, CML in words, the
raw fields last with units, one plot per metric, and `q`/`Esc` going back."""

from __future__ import annotations

import re

from textual.widgets import Collapsible

from cmltui.tui.braille import BRAILLE_BASE, area_plot, level_dots, span_of
from cmltui.tui.cml_facts import licence_facts, raw_facts, raw_value, system_facts
from cmltui.tui.detail import LabsTable, WorkerDetailScreen, plots_text
from cmltui.tui.fmt import gib, home_relative
from tests.tui.pilot_helpers import cycle, ready, screen_lines
from tests.tui.tui_fleet import NOW, build_workers, by_name, snapshot

LONG_NUMBER = re.compile(r"(?<![\w.-])\d{10,}(?![\w])")
"""A bare number of ten digits or more (a byte count); digits inside an id do not count."""
PYTHON_REPR = re.compile(r"\{'|\bTrue\b|\bFalse\b|\bNone\b")


def _dots(char: str) -> int:
    return bin(ord(char) - BRAILLE_BASE).count("1")


# --- plots ------------------------------------------------------------------------------------


def test_a_plot_fills_in_proportion_and_never_hides_a_small_value():
    assert level_dots(None, 12) == 0
    assert level_dots(0.0, 12) == 0
    assert level_dots(0.5, 12) == 1  # a quiet 0.5 % is a dot, not a gap
    assert level_dots(50.0, 12) == 6
    assert level_dots(100.0, 12) == 12
    assert level_dots(250.0, 12) == 12
    full, half = area_plot([100.0], 1, 3), area_plot([50.0], 1, 3)
    assert [_dots(line) for line in full] == [8, 8, 8]
    assert [_dots(line) for line in half] == [0, 4, 8]  # 6 of 12 levels, two columns


def test_a_plot_puts_the_newest_sample_at_the_right_and_gaps_as_gaps():
    lines = area_plot([100.0, None, 100.0], 5, 1)
    assert len(lines) == 1 and len(lines[0]) == 5
    cells = [_dots(c) for c in lines[0]]
    assert cells == [0, 0, 8, 0, 8]  # older cells empty; None is a blank column, not 0 %
    # More samples than cells: two a cell, the oldest left out.
    many = [0.0] * 7 + [100.0] * 3
    paired = area_plot(many, 4, 1)[0]
    assert [_dots(c) for c in paired] == [0, 0, 4 + 0, 8]
    assert span_of(many, 4) == 8 and span_of(many, 20) == 10 and span_of(many, 5) == 10


def test_each_metric_has_its_own_plot_so_close_values_cannot_hide_each_other():
    """CPU and memory 3 % apart (the old shared plot showed only `mmmm`): each has its rows."""
    dto = next(d for d in snapshot(build_workers(), NOW).workers if d.name == "cml-busy-01")
    series = {"cpu": (62.0, 63.0, 64.0), "memory": (65.0, 66.0, 67.0), "disk": (40.0,) * 3}
    for width in (76, 156):
        text = plots_text(dto, series, _thresholds(), 10.0, width).plain
        lines = text.splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith(("CPU", "MEM", "DSK"))]
        assert [lines[i][:3] for i in starts] == ["CPU", "MEM", "DSK"]
        assert starts == [1, 4, 7]  # three rows each, one below the other
        assert "CPU  93%" in lines[1] and "MEM  74%" in lines[4] and "DSK  55%" in lines[7]
        assert " max  64%" in lines[2] and " min  62%" in lines[3]
        for row in lines[1:10]:  # every plot row ends in braille: nothing drawn over it
            assert all(BRAILLE_BASE <= ord(c) < BRAILLE_BASE + 256 for c in row[11:])
            assert len(row) <= width
        assert "20s ago" in lines[10] and "now" in lines[10]


def _thresholds():
    from cmltui.config import ThresholdsConfig

    return ThresholdsConfig()


# --- CML in words -----------------------------------------------------------------------------


def _dto(role: str, **changes):
    workers = build_workers()
    worker = by_name(workers, role)
    for name, value in changes.items():
        setattr(worker.cml, name, value)
    return next(d for d in snapshot(workers, NOW).workers if d.id == worker.instance_id)


def test_the_licence_reads_as_a_sentence():
    facts = {label: value for label, value, _style in licence_facts(_dto("busy"))}
    assert facts["Licence"].startswith("registered, authorized until 20")
    assert re.search(r"until \d{4}-\d\d-\d\d$", facts["Licence"])
    unknown = _dto("busy", licensing=None)
    assert licence_facts(unknown)[0][:2] == ("Licence", "not read yet")


def test_sizes_read_in_gib_and_nodes_with_what_they_were_given():
    info = {
        "cpu_count": 96,
        "cpu_percent": 12.5,
        "memory_total": 384 * 1024**3,
        "memory_used": 96 * 1024**3,
        "disk_total": 2 * 1024**4,
        "disk_used": 512 * 1024**3,
        "running_nodes": 15,
        "total_nodes": 38,
        "allocated_cpus": 15,
        "allocated_memory": 30720,
        "computes": {},
    }
    facts = {label: value for label, value, _s in system_facts(_dto("busy", system_info=info))}
    assert facts["CPU"] == "96 CPUs, 12 % busy"
    assert facts["Memory"] == "384 GiB, 96.0 GiB used (25 %)"
    assert facts["Disk"] == "2.0 TiB, 512 GiB used (25 %)"
    assert facts["Nodes"] == "15 of 38 running; given 15 vCPUs and 30.0 GiB"
    assert gib(512 * 1024**2) == "512 MiB" and gib(None) == "—"


def test_raw_fields_carry_units_and_no_python_repr():
    dto = _dto("busy")
    raw = dict(raw_facts(dto, NOW))
    assert raw["system.memory_total"].endswith("GiB")
    assert raw["system.cpu_percent"].endswith("%")
    assert raw["health.valid"] == "yes"
    for key, value in raw.items():
        assert not LONG_NUMBER.search(value), (key, value)
        assert not PYTHON_REPR.search(value), (key, value)
    assert raw_value("x.when", "2027-02-25T15:19:57+00:00", NOW) == "2027-02-25 15:19"
    assert raw_value("x.count", float("nan"), NOW) == "?"
    assert raw_value("x.features", "{'id': 1}", NOW) == "{'id': 1}"  # text stays text


def test_raw_fields_are_bounded():
    flood = {f"k{i}": {"deeper": {"still": i}} for i in range(2000)}
    raw = raw_facts(_dto("busy", licensing=flood, system_health=None, system_info=None), NOW)
    assert len(raw) == 401 and raw[-1] == ("…", "more fields, not shown")


def test_home_relative_paths():
    assert home_relative("/home/ann/.local/state/x.jsonl", home=_path("/home/ann")) == (
        "~/.local/state/x.jsonl"
    )
    assert home_relative("/var/log/x", home=_path("/home/ann")) == "/var/log/x"


def _path(text: str):
    from pathlib import Path

    return Path(text)


# --- the screen -------------------------------------------------------------------------------


async def test_at_80x24_the_first_screen_is_what_the_operator_acts_on(make_app, workers):
    """Addresses, the idle state and the pause/savings block without scrolling; no byte count
    and no Python repr anywhere outside the raw section."""
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        busy = await ready(app, pilot, workers, "busy")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkerDetailScreen)
        dto = app.view.dto(busy)
        first = "\n".join(screen_lines(app))
        assert dto.public_ip in first and dto.https_endpoint in first
        assert f"ssh -p 1122 sysadmin@{dto.public_ip}" in first
        assert "Detection   ON" in first and "Idle for" in first
        assert "Pause / resume · savings" in first and "Saved" in first and "Price" in first
        assert "raw CML fields" not in first
        # Scroll through the whole page: nothing below reads like a dump.
        seen = list(screen_lines(app))
        for _ in range(12):
            await pilot.press("pagedown")
            await pilot.pause()
            seen += screen_lines(app)
        page = "\n".join(seen)
        assert "Licence     registered, authorized until" in page
        assert "Memory" in page and "GiB" in page
        assert "raw CML fields" in page
        assert not LONG_NUMBER.search(page), LONG_NUMBER.search(page)
        assert not PYTHON_REPR.search(page), PYTHON_REPR.search(page)
        # The raw section, opened, holds the fields (with units).
        raw = app.screen.query_one("#raw", Collapsible)
        raw.collapsed = False
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        opened = "\n".join(screen_lines(app))
        assert "system." in opened and "GiB" in opened


async def test_q_and_esc_go_back_and_the_labs_table_picks_a_lab(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot, workers, "labs")
        for key in ("q", "escape"):
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, WorkerDetailScreen)
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, WorkerDetailScreen) and app.is_running
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(LabsTable)
        assert table.row_count == 15
        first = screen.selected_lab_id
        assert first is not None
        table.focus()
        await pilot.press("down", "down", "down")
        fourth = [key.value for key in table.rows][3]
        assert screen.selected_lab_id == fourth != first
        await cycle(app, pilot)
        assert table.row_count == 15 and screen.selected_lab_id == fourth


async def test_the_audit_hint_shows_the_whole_audit_path(make_app, workers, tmp_path):
    app, _ = make_app()
    app.audit_path = tmp_path / "a" / "very" / "deep" / "folder" / "of" / "audit.jsonl"
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot, workers, "busy")
        await pilot.press("enter")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        audit = str(app.screen.query_one("#audit").render())
        assert str(app.audit_path) in audit.replace("\n", "")
        assert "? help" not in audit
