"""CML text with escape sequences, served by the simulator over HTTPS, collected by the real
core, then drawn by the dashboard and `--format table`.

moto cannot store ESC in a tag, so escape sequences arrive the way a compromised CML sends them:
as lab titles and user names in its JSON.
"""

from __future__ import annotations

import pytest

from cmltui.audit import AuditLog
from cmltui.backends.direct.demo import demo_config, simulator_endpoints
from cmltui.backends.direct.wiring import build_core
from cmltui.cli.table import render_table
from cmltui.config import Config
from cmltui.tui.app import CmltuiApp
from tests.hostile_corpus import ESCAPES, LAYOUT, MARKUP, control_problems
from tests.tui.test_hostile_text import SIZE, assert_inert
from tests.tui.tui_backend import ScriptedBackend

pytestmark = pytest.mark.asyncio(loop_scope="module")
NAME = "cml-busy-01"


async def test_escape_sequences_from_cml_never_reach_the_terminal(fleet, tmp_path):
    model = fleet.worker(NAME).model
    saved = [(lab, lab.title) for lab in model.labs] + [(u, u.username) for u in model.users]
    hostile = ESCAPES + MARKUP + LAYOUT[:6]
    for i, lab in enumerate(model.labs):
        lab.title = hostile[i % len(hostile)]
        lab.state = "STARTED"
    for i, user in enumerate(model.users):
        user.username = hostile[(i + 3) % len(hostile)]
    config = demo_config(Config(), fleet.region)
    core = build_core(
        config, simulator_endpoints(fleet), fleet.clock, audit=AuditLog(tmp_path / "a.jsonl")
    )
    try:
        await core.collector.collect()
        await core.idle_checker.check_due()
        snapshot = await core.collector.collect()
    finally:
        await core.close()
        for obj, value in saved:
            if hasattr(obj, "title"):
                obj.title = value
            else:
                obj.username = value
    busy = next(d for d in snapshot.workers if d.name == NAME)
    # The data arrives as CML sent it (JSON output keeps it, escaped by the JSON encoder) ...
    assert busy.labs and any("\x1b" in lab.title for lab in busy.labs)
    # ... and is never drawn raw.
    assert control_problems(render_table(snapshot)) == []

    backend = ScriptedBackend(lambda: snapshot, fleet.clock)
    app = CmltuiApp(backend, config, fleet.clock)
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        index = app.table.order.index(busy.id)
        await pilot.press("home")
        for _ in range(index):
            await pilot.press("down")
        await pilot.pause()
        assert app.query_one("#detail")._border_title.plain.startswith(NAME)
        assert_inert(app, "labs panel with CML titles")
        await pilot.press("p")
        await pilot.pause()
        assert_inert(app, "pause dialog naming CML users and labs")
