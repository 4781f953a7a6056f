"""Every hint that names a key names the key that is bound to that action, as configured.

The walk opens every screen that shows a hint (the dashboard frozen, the error panel, a worker's
detail screen, help, cost, both confirmations, the copy menu, the no-display toast), reads all
their text, and checks each hint against the keymap: with the defaults and remapped.
"""

from __future__ import annotations

import re

import pytest
from rich.console import Console
from textual.app import App
from textual.widget import Widget
from textual.widgets import Static

from cmltui import keymap
from cmltui.api.events import FleetSnapshot
from cmltui.config import Config, KeysConfig
from cmltui.tui import reach
from cmltui.tui.app import CmltuiApp
from cmltui.tui.bulk import BulkPauseScreen
from cmltui.tui.confirm import ConfirmActionScreen
from cmltui.tui.hints import HINTS
from cmltui.tui.reach import CopyMenu
from tests.tui.pilot_helpers import cycle, ready, settle
from tests.tui.tui_backend import ScriptedBackend

SIZE = (160, 48)
REMAPPED = KeysConfig(
    freeze="z", help="f1", quit="x", activity="L", open_url="O", clipboard="c", pause_idle="A"
)


def _text(renderable: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def screen_texts(app: App) -> list[str]:
    """What the current screen says: every text widget, border title and subtitle, toast."""
    texts = []
    for widget in app.screen.query(Widget):
        if isinstance(widget, Static):
            texts.append(_text(widget.content))
        for title in (widget.border_title, widget.border_subtitle):
            if title:
                texts.append(str(title))
    texts += [str(n.message) for n in app._notifications]
    return texts


def hint_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.escape(template).replace(re.escape("{key}"), r"([^\s(]+)"))


def dialog_answers(app: App) -> tuple[str, dict[str, set[str]]]:
    """The dialog's hint line, and the keys (as hints name them) bound to yes and to no."""
    bound: dict[str, set[str]] = {"answer(True)": set(), "answer(False)": set()}
    for key, active in app.screen.active_bindings.items():
        if active.binding.action in bound and active.node is app.screen:
            bound[active.binding.action] |= set(keymap.key_names(key))
    return _text(app.screen.query_one("#hint", Static).content), bound


async def walk(app: CmltuiApp, backend: ScriptedBackend, pilot, workers) -> list[str]:
    """Every screen with a hint, in turn; returns all their texts."""
    seen: list[str] = []
    busy = await ready(app, pilot, workers, "busy")
    await pilot.press(keymap.split_keys(app.config.keys.freeze)[0])
    await pilot.pause()
    assert app.frozen
    seen += screen_texts(app)
    await pilot.press(keymap.split_keys(app.config.keys.freeze)[0])
    assert not app.frozen

    reach.open_cml(app, app.view.dto(busy), env={"SSH_CONNECTION": "1 2 3 4"})
    await pilot.pause()
    seen += screen_texts(app)

    await pilot.press("enter")  # the detail screen (its hints, and its audit note)
    await settle(app, pilot)
    await app.screen.workers.wait_for_complete()
    seen += screen_texts(app)
    await pilot.press(keymap.split_keys(app.config.keys.clipboard)[0])  # the copy menu
    await pilot.pause()
    assert isinstance(app.screen, CopyMenu)
    seen += screen_texts(app)
    await pilot.press("escape", "escape")

    for action in ("help", "cost"):
        await pilot.press(keymap.split_keys(getattr(app.config.keys, action))[0])
        await pilot.pause()
        seen += screen_texts(app)
        await pilot.press("escape")
        await pilot.pause()

    for press, screen_type in (("pause", ConfirmActionScreen), ("pause_idle", BulkPauseScreen)):
        await pilot.press(keymap.split_keys(getattr(app.config.keys, press))[0])
        await pilot.pause()
        assert isinstance(app.screen, screen_type)
        line, bound = dialog_answers(app)
        yes, no = re.fullmatch(r".*?(\S+(?:, \S+)*(?: or \S+)?): yes · (.+): no\s*", line).groups()
        assert set(re.split(r", | or ", yes)) == bound["answer(True)"] == {"y"}
        assert set(re.split(r", | or ", no)) == bound["answer(False)"] == {"n", "Esc", "Enter"}
        seen += screen_texts(app)
        await pilot.press("escape")
        await settle(app, pilot)

    backend.produce = lambda: FleetSnapshot(  # nothing listed: the error panel
        collected_at=app.clock.now(), workers=(), errors=("us-east-1: access denied",)
    )
    await cycle(app, pilot)
    assert app.main_screen.has_class("-problem")
    seen += screen_texts(app)
    assert backend.calls == []  # the walk sent nothing
    return seen


@pytest.mark.parametrize("keys", [KeysConfig(), REMAPPED], ids=["defaults", "remapped"])
async def test_no_hint_names_a_key_that_is_not_bound_to_its_action(make_app, workers, keys):
    app, backend = make_app(config=Config(keys=keys))
    async with app.run_test(size=SIZE) as pilot:
        texts = "\n".join(await walk(app, backend, pilot, workers))
    for hint in HINTS:
        found = hint_pattern(hint.template).findall(texts)
        assert found, f"no screen shows the {hint.action_id} hint {hint.template!r}"
        bound = keymap.key_names(getattr(keys, hint.action_id))
        assert set(found) <= set(bound), (hint.template, found, bound)


async def test_with_freeze_on_z_the_frozen_banner_names_z(make_app, workers):
    app, _ = make_app(config=Config(keys=KeysConfig(freeze="z")))
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        await pilot.press("z")
        await pilot.pause()
        banner = _text(app.query_one("#frozen", Static).content)
        assert app.frozen and "press z to resume" in banner
        assert "space" not in banner and " f " not in banner
        await pilot.press("z")
        assert not app.frozen


async def test_help_and_cost_close_on_their_configured_keys(make_app, workers):
    app, _ = make_app(config=Config(keys=KeysConfig(help="f1", cost="C")))
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot, workers)
        for key, title in (("f1", "cmltui help"), ("C", "Cost")):
            await pilot.press(key)
            await pilot.pause()
            subtitle = str(app.screen.query_one("VerticalScroll").border_subtitle)
            assert title in str(app.screen.query_one("VerticalScroll").border_title)
            assert subtitle == f"Esc, q or {key} to close"
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.main_screen
