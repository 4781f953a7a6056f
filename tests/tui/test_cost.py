"""The money in view: the header's idle burn and the cost screen (`$`), as pictures and text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from rich.console import Console

from cmltui.api.backend import BackendContext
from cmltui.api.cost import CostTotals
from cmltui.clock import ManualClock
from cmltui.config import Config
from cmltui.domain.savings import Basis, SavingKind, StopInterval
from cmltui.domain.worker import CMLWorker
from cmltui.tui.app import CmltuiApp
from cmltui.tui.cost_screen import CostScreen, breakdown_table, cost_view
from cmltui.tui.header import FleetHeader
from tests.tui.tui_backend import ScriptedBackend
from tests.tui.tui_fleet import NOW, by_name, snapshot

WIDE = (160, 48)
COMPACT = (80, 24)
OWNERS = {"busy": "alice", "labs": "bob", "idle": "alice", "snooze": "carol", "stopped": "bob"}


def audited(workers: list[CMLWorker]) -> dict[str, list[StopInterval]]:
    """An earlier auto-pause of the snooze worker and an earlier manual pause of the stopped one."""
    snooze, stopped = by_name(workers, "snooze"), by_name(workers, "stopped")
    return {
        snooze.instance_id: [
            StopInterval(NOW - timedelta(minutes=80), None, SavingKind.AUTO, Basis.AUDIT_LOG)
        ],
        stopped.instance_id: [
            StopInterval(
                NOW - timedelta(hours=30),
                NOW - timedelta(hours=24),
                SavingKind.MANUAL,
                Basis.AUDIT_LOG,
            )
        ],
    }


@pytest.fixture
def cost_app(clock: ManualClock, workers: list[CMLWorker]) -> Callable[..., CmltuiApp]:
    for worker in workers:
        role = worker.name.split("-")[1]
        if role in OWNERS:
            worker.tags["owner"] = OWNERS[role]

    def make(config: Config | None = None) -> CmltuiApp:
        cfg = config or Config()
        backend = ScriptedBackend(
            lambda: snapshot(workers, clock.now(), cfg, audited=audited(workers)),
            clock,
            BackendContext(profile="lab-admin", regions=("us-east-1", "eu-west-1")),
        )
        return CmltuiApp(backend, cfg, clock, start_backend=False)

    return make


async def _loaded(pilot) -> None:
    await pilot.app.backend.collect()
    await pilot.pause()


def test_cost_screen_wide(snap_compare, cost_app):
    assert snap_compare(cost_app(), terminal_size=WIDE, press=["dollar_sign"], run_before=_loaded)


def test_cost_screen_compact(snap_compare, cost_app):
    assert snap_compare(
        cost_app(), terminal_size=COMPACT, press=["dollar_sign"], run_before=_loaded
    )


def test_header_with_idle_burn_all_priced(snap_compare, cost_app):
    """With eu-west-1 priced in the config nothing is left out; idle burn shows in yellow."""
    config = Config.model_validate({"prices": {"eu-west-1": {"m5zn.metal": 4.36}}})
    assert snap_compare(cost_app(config), terminal_size=(120, 16), run_before=_loaded)


async def test_header_and_cost_screen_say_what_the_totals_leave_out(cost_app):
    app = cost_app()
    async with app.run_test(size=WIDE) as pilot:
        await _loaded(pilot)
        header = str(app.query_one(FleetHeader).build(160))
        totals = app.latest.cost()
        assert totals.unpriced_running == 3  # the eu-west-1 m5zn.metal workers: no price known
        assert f"burn ${totals.burn_per_hour:,.2f}/h" in header
        assert f"idle ${totals.idle_burn_per_hour:,.2f}/h" in header
        assert totals.idle_burn_per_hour > 0
        assert "+3×? unpriced" in header
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert isinstance(app.screen, CostScreen)
        console = Console(width=156, record=True, color_system=None)
        console.print(cost_view(app.latest.workers, NOW, 156))
        body = console.export_text()
        assert "Not in the totals: 3 running with no known price (eu-west-1)" in body
        assert "By owner" in body and "By instance type" in body and "By region" in body
        assert "audit log" in body and "pause tags" in body
        # the auto-pause (80 min ago, resumed 20 min ago by the tags) saved one hour of m5zn
        assert "auto-pause $3.96" in body
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CostScreen)


def test_owner_names_from_tags_are_made_harmless_with_the_readmes_visible_symbols():
    """The one sanitiser: controls and bidi characters become the symbols the README names
    (never `?`, which reads like an unpriced worker), cut by cells on screen."""
    rows = [("[bold]x\x1b[31m\u202eevil", CostTotals()), ("a" * 40, CostTotals())]
    rows.append(("界" * 20, CostTotals()))
    console = Console(width=120, record=True, color_system=None)
    console.print(breakdown_table("By owner", rows, wide=False))
    text = console.export_text()
    assert "[bold]x␛[31m�evil" in text and "\x1b" not in text and "\u202e" not in text
    assert "a" * 23 + "…" in text and "a" * 24 not in text
    assert "界" * 11 + "…" in text  # 22 cells of wide characters and the ellipsis
