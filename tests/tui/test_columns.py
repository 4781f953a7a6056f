"""Wording, fitting, sorting and totals: the pure parts behind the table and the header."""

from __future__ import annotations

from cmltui.config import ThresholdsConfig
from cmltui.domain.idle import IdleState
from cmltui.tui.columns import (
    COLUMNS,
    RowState,
    cells,
    fit_columns,
    idle_label,
    matches,
    next_sort,
    sort_ids,
)
from cmltui.tui.fmt import Level, coarse_age, duration, gauge_bar, level, sparkline
from cmltui.tui.header import header_counts
from cmltui.tui.history import FleetHistory
from tests.tui.tui_fleet import build_workers, by_name, snapshot

TH = ThresholdsConfig()


def test_fit_columns_drops_least_important_and_fills_80_columns():
    wide = fit_columns(200)
    assert [c.key for c, _ in wide] == [c.key for c in COLUMNS]
    narrow = fit_columns(78)
    keys = [c.key for c, _ in narrow]
    assert keys[:4] == ["name", "status", "service", "cpu"]
    assert "id" not in keys and "license" not in keys
    assert sum(w for _, w in narrow) + len(narrow) - 1 <= 78


def test_levels_have_a_non_colour_cue():
    assert level(None, TH) is Level.UNKNOWN
    assert [level(v, TH) for v in (10, 50, 70, 90)] == [
        Level.OK,
        Level.CAREFUL,
        Level.WARNING,
        Level.CRITICAL,
    ]
    assert Level.WARNING.cue == "!" and Level.CRITICAL.cue == "!!"


def test_gauge_sparkline_and_durations():
    assert gauge_bar(50, 10) == "█████░░░░░"
    assert gauge_bar(None, 4) == "░░░░"
    assert sparkline([0, 100, None, 50], 6) == "  ▁█ ▄"
    assert sparkline([30, 31], 2)[0] == sparkline([30, 31], 2)[1]  # absolute scale: flat
    assert duration(59) == "59s" and duration(3 * 3600 + 300) == "3h05m"
    assert coarse_age(240) == "4m" and coarse_age(2 * 86400) == "2d"


def test_cells_of_the_mix():
    snap = snapshot(build_workers())
    dtos = {d.name: d for d in snap.workers}
    busy = cells(dtos["cml-busy-01"], TH)
    assert busy["cpu"].text == "93!!" and busy["memory"].text == "74!"
    down = cells(dtos["cml-down-07"], TH)
    assert down["service"].text == "error 4m old"
    idle = cells(dtos["cml-idle-03"], TH)
    assert idle["idle"].text == "IDLE 3h"
    assert cells(dtos["cml-labs-02"], TH)["idle"].text == "off"
    assert cells(dtos["cml-snooze-04"], TH)["idle"].text == "snooze"
    stopped = cells(dtos["cml-stopped-06"], TH)
    assert stopped["cpu"].text == "—" and stopped["cost"].text == "—"
    assert stopped["idle"].text == "—"
    shown = RowState("stopping…", IdleState.ACTIVE)
    in_flight = cells(dtos["cml-busy-01"], TH, shown)
    assert in_flight["status"].text == "stopping…" and "italic" in in_flight["status"].style


def test_idle_words_come_from_the_domain_and_unknown_is_never_active():
    dtos = {d.name: d for d in snapshot(build_workers()).workers}
    busy = dtos["cml-busy-01"]
    assert [idle_label(busy, state) for state in IdleState] == [
        "IDLE 3m",  # with its age when idle
        "active",
        "?",
        "off",
        "snooze",
    ]
    assert idle_label(busy, None) == "—"
    # the row as the view-model shows it: a toggle not yet listed
    assert cells(busy, TH, RowState("running", IdleState.UNKNOWN))["idle"].text == "?"
    assert cells(busy, TH, RowState("running", IdleState.OFF))["idle"].text == "off"


def test_sort_names_are_the_headers_and_s_steps_left_to_right_through_the_shown():
    shown = [column.key for column, _ in fit_columns(78)]
    assert shown[:4] == ["name", "status", "service", "cpu"]
    steps, key = [], "name"
    for _ in range(len(shown)):
        key = next_sort(key, shown)
        steps.append(key)
    assert steps == [*shown[1:], "name"]  # left to right as shown, then round again
    everything = [column.key for column in COLUMNS]
    assert [next_sort(k, everything) for k in everything] == [*everything[1:], everything[0]]
    # from a column the width hides: on to the next shown one at its right, else the first
    assert shown[-2:] == ["disk", "labs"] and "license" not in shown
    assert next_sort("license", shown) == "name"
    assert next_sort("service", ["name", "cpu", "idle"]) == "cpu"
    titles = {column.key: column.title for column in COLUMNS}
    assert titles["service"] == "CML" and titles["cost"] == "$/H"


def test_sort_and_filter():
    workers = build_workers()
    snap = snapshot(workers)
    by_cpu = sort_ids(snap.workers, "cpu")
    assert by_cpu[0] == by_name(workers, "busy").instance_id
    by_name_ids = sort_ids(snap.workers, "name")
    assert by_name_ids[0] == by_name(workers, "busy").instance_id
    assert [d.name for d in snap.workers if matches(d, "EXPIRED")] == ["cml-expired-11"]
    # A lab owner is not a column: plain "bob" does not match, `owner:bob` does.
    assert "cml-busy-01" not in {d.name for d in snap.workers if matches(d, "bob")}
    assert {d.name for d in snap.workers if matches(d, "owner:bob")} >= {"cml-busy-01"}
    assert {d.name for d in snap.workers if matches(d, "OWNER: Bob")} >= {"cml-busy-01"}
    assert [d.name for d in snap.workers if matches(d, "lab:busy lab 2")] == ["cml-busy-01"]


def test_header_counts_and_history():
    workers = build_workers()
    snap = snapshot(workers)
    counts = header_counts(snap.workers, snap.cost())
    cost = counts.cost
    assert (cost.workers, cost.running, cost.stopped, cost.idle) == (12, 11, 1, 1)
    # every running worker once: idle (by the cost totals), active, snooze, unknown or off
    assert counts.states == {IdleState.ACTIVE: 8, IdleState.SNOOZE: 1, IdleState.OFF: 1}
    assert counts.stale == 2
    assert round(cost.burn_per_hour, 2) == round(sum(d.hourly_cost or 0 for d in snap.workers), 2)
    history = FleetHistory(3)
    for _ in range(2):
        history.record(snap.workers, snap.collected_at)  # same cycle twice: one point
    busy = by_name(workers, "busy").instance_id
    assert history.series(busy, "cpu") == (93.0,)


def test_idle_cell_counts_whole_minutes_and_unknown_is_a_question_mark():
    """The IDLE cell does not tick every refresh under a minute; unknown is `?`, never a time."""
    from datetime import timedelta

    from tests.tui.tui_fleet import NOW

    workers = build_workers()
    busy = by_name(workers, "busy")
    busy.activity.last_activity_at = NOW - timedelta(seconds=40)
    dto = next(d for d in snapshot(workers, NOW).workers if d.id == busy.instance_id)
    assert dto.idle_state == "active"
    assert cells(dto, TH)["idle"].text == "<1m"
    busy.activity.last_activity_at = NOW - timedelta(minutes=5, seconds=30)
    dto = next(d for d in snapshot(workers, NOW).workers if d.id == busy.instance_id)
    assert cells(dto, TH)["idle"].text == "5m"
    busy.activity.last_activity_check_at = None  # telemetry never read: unknown
    dto = next(d for d in snapshot(workers, NOW).workers if d.id == busy.instance_id)
    assert dto.idle_state == "unknown"
    assert cells(dto, TH)["idle"].text == "?"


def test_detail_screen_says_where_a_price_came_from_and_what_was_saved():
    from cmltui.tui.detail import instance_text
    from tests.tui.tui_fleet import NOW

    dtos = {d.name: d for d in snapshot(build_workers(), NOW).workers}
    priced = next(d for d in dtos.values() if d.aws_region == "us-east-1" and d.hourly_price)
    shown = instance_text(priced, NOW).plain
    assert f"${priced.hourly_price:.2f}/h (table)" in shown
    unpriced = next(d for d in dtos.values() if d.aws_region == "eu-west-1")
    assert "? no known price (eu-west-1)" in instance_text(unpriced, NOW).plain
