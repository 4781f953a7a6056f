"""A fleet across two AWS accounts on the dashboard: the ACCOUNT column (only then), the
`account:` filter, the accounts in the header, and a row whose account cannot be listed."""

from __future__ import annotations

from datetime import timedelta

from cmltui.api.backend import BackendContext
from cmltui.config import ThresholdsConfig
from cmltui.domain.accounts import worker_key
from cmltui.tui.columns import COLUMNS, cells, columns_for, fit_columns, matches
from cmltui.tui.header import FleetHeader
from tests.tui.pilot_helpers import cycle
from tests.tui.tui_fleet import NOW, snapshot

TWO = BackendContext(
    profile="lab", regions=("us-east-1",), accounts=("training", "development"), listings=2
)


def split(workers) -> None:
    """Every other worker into the second account, as the simulator does."""
    for k, worker in enumerate(workers):
        worker.account = ("training", "development")[k % 2]


def test_the_account_column_only_for_several_accounts_and_right_of_the_name():
    assert "account" not in [c.key for c in columns_for(1)]
    assert columns_for(1) == COLUMNS
    keys = [c.key for c, _ in fit_columns(78, columns_for(2))]
    assert keys[:2] == ["name", "account"]
    assert "account" in keys and "memory" in keys  # it fits at 80 columns, beside the gauges


def test_cells_filter_and_stale_listing_of_an_account(workers):
    split(workers)
    dtos = snapshot(workers).workers
    dev = [d for d in dtos if d.aws_account == "development"]
    assert dev and all(d.id == worker_key("development", d.aws_instance_id) for d in dev)
    assert all(cells(d, ThresholdsConfig())["account"].text == "development" for d in dev)
    assert [d.id for d in dtos if matches(d, "account:dev")] == [d.id for d in dev]
    assert [d.id for d in dtos if matches(d, "development")] == [d.id for d in dev]
    running = next(w for w in workers if w.account == "training" and w.is_running)
    running.errors["ec2"] = "training: us-east-1: AuthFailure"
    running.ec2_last_checked_at = NOW - timedelta(minutes=3)
    stale = next(d for d in snapshot(workers).workers if d.aws_instance_id == running.instance_id)
    assert stale.ec2_stale_seconds == 180
    assert cells(stale, ThresholdsConfig())["status"].text == "running?"


async def test_table_and_header_of_two_accounts(make_app, workers):
    split(workers)
    app, _ = make_app(context=TWO)
    async with app.run_test(size=(160, 48)) as pilot:
        await cycle(app, pilot)
        assert "account" in app.table.shown_keys
        first = next(w for w in workers if w.account == "development")
        row = app.table.row_text(worker_key("development", first.instance_id))
        assert "development" in row and first.tags["Name"] in row
        assert "accounts training, development" in app.query_one(FleetHeader).build(160).plain
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        top = app.query_one(FleetHeader).build(80).plain.splitlines()[0]
        assert "2 accounts" in top and "training" not in top


async def test_one_account_shows_no_account_column(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await cycle(app, pilot)
        assert "account" not in app.table.shown_keys
        assert "profile lab" in app.query_one(FleetHeader).build(160).plain
