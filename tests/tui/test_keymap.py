"""One table of actions: bindings, footer, help, palette and `[keys]` all come from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import Footer

from cmltui import keymap
from cmltui.api.backend import BackendContext
from cmltui.config import Config, ConfigError, KeysConfig, load_config
from cmltui.keymap import Scope
from cmltui.tui.app import CmltuiApp
from cmltui.tui.confirm import ConfirmActionScreen
from cmltui.tui.detail import WorkerDetailScreen
from cmltui.tui.footer import fit_footer
from cmltui.tui.help import keys_table
from tests.tui.pilot_helpers import messages
from tests.tui.tui_fleet import by_name

SIZE = (160, 48)


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return str(path)


def test_a_remap_onto_another_actions_key_is_a_config_error_naming_both(tmp_path):
    path = _write(tmp_path, '[keys]\npause = "i"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert message.startswith(f"{path}: keys: ")
    assert "'i'" in message and "toggle_idle" in message and "pause" in message
    assert "\n" not in message


def test_collision_within_a_key_list_and_with_character_spelling(tmp_path):
    path = _write(tmp_path, '[keys]\nrefresh = "f5,?"\n')
    with pytest.raises(ConfigError, match=r"'\?' is the key of both refresh and help"):
        load_config(path, env={})


def test_swapping_two_keys_is_fine_and_characters_become_key_names(tmp_path):
    path = _write(tmp_path, '[keys]\npause = "r"\nresume = "p"\nfilter = "ctrl+f,/"\n')
    keys = load_config(path, env={}).keys
    assert (keys.pause, keys.resume, keys.filter) == ("r", "p", "ctrl+f,slash")


def test_unknown_action_in_keys_is_named(tmp_path):
    path = _write(tmp_path, '[keys]\nteleport = "t"\n')
    with pytest.raises(ConfigError, match=r"keys\.teleport: unknown key"):
        load_config(path, env={})


def test_keys_config_has_exactly_the_tables_actions():
    assert set(KeysConfig.model_fields) == {spec.id for spec in keymap.ACTIONS}
    assert keymap.collisions(KeysConfig().model_dump()) == []


def test_bindings_and_footer_come_from_the_table():
    bindings = {b.id: b for b in CmltuiApp.BINDINGS}
    for spec in keymap.ACTIONS:
        binding = bindings[keymap.BINDING_PREFIX + spec.id]
        assert (binding.key, binding.action) == (spec.keys, spec.action)
        assert binding.show == bool(spec.label)


def test_help_lists_every_action_once_with_its_configured_key():
    console = Console(width=120, record=True)
    config = Config(keys=KeysConfig(pause="x", resume="u"))
    console.print(keys_table(config.keys))
    lines = [line.strip() for line in console.export_text().splitlines() if line.strip()]
    for spec in keymap.ACTIONS:
        assert sum(spec.description in line for line in lines) == 1, spec.id
    by_key = {line.split()[0]: line for line in lines}
    assert "pause the selected worker" in by_key["x"]
    assert "resume the selected worker" in by_key["u"]
    assert "p" not in by_key and "/" in by_key and "?" in by_key


async def test_remapped_footer_shows_the_new_key(make_app):
    app, _ = make_app(config=Config(keys=KeysConfig(pause="x")))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer_keys = {
            binding.action: app.get_key_display(binding)
            for (_node, binding, _enabled, _tooltip) in app.active_bindings.values()
        }
        assert footer_keys["pause"] == "x"
        assert app.query_one(Footer) is not None


async def test_palette_lists_every_palette_action_and_runs_it(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        app.table.move_to(by_name(workers, "busy").instance_id)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        # Each with its key beside it, as configured.
        palette = {f"{s.palette}  ({app.hints.key(s.id)})": s for s in keymap.palette_entries()}
        on_main = {title for title, s in palette.items() if keymap.works_on(s.action, Scope.MAIN)}
        assert on_main <= titles
        assert "Pause worker  (p)" in titles and "Filter workers  (/)" in titles
        assert "Theme" in titles  # Textual's own entries stay
        # the lab actions work on a worker's detail screen only, and are listed only there
        labs = {"Stop lab  (h)", "Start lab  (t)", "Wipe lab  (w)"}
        assert labs <= set(palette) and not labs & titles
        app.push_screen(WorkerDetailScreen(by_name(workers, "busy").instance_id))
        await pilot.pause()
        detail = {command.title for command in app.get_system_commands(app.screen)}
        assert labs <= detail and "Pause worker  (p)" in detail
        assert not any(title.startswith("Sort: next column") for title in detail)
        app.pop_screen()
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"pause worker")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ConfirmActionScreen)
        assert app.screen.kind == "pause"


def _footer(app: CmltuiApp) -> dict[str, str]:
    """What the footer offers: action -> label."""
    return {
        b.action: b.description for (_n, b, _e, _t) in app.screen.active_bindings.values() if b.show
    }


async def test_the_footer_offers_no_aws_write_in_read_only_mode(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        shown = _footer(app)
        assert {"pause", "resume", "toggle_idle", "pause_idle"} <= set(shown)
    context = BackendContext(profile="ro", regions=("us-east-1",), read_only=True)
    app, _ = make_app(context=context)
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        shown = _footer(app)
        assert not {"pause", "resume", "toggle_idle", "pause_idle"} & set(shown)
        assert "quit" in shown and "open_detail" in shown
        await pilot.press("enter")  # the detail screen too
        await pilot.pause()
        assert not {"app.pause", "app.resume", "app.toggle_idle"} & set(_footer(app))
        assert "back" in _footer(app)
        await pilot.press("p")  # the key still answers, with why nothing is sent
        await pilot.pause()
        assert messages(app)[-1] == ("warning", "read-only mode: pause not sent")


async def test_p_is_named_for_what_it_will_pause(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        assert _footer(app)["pause_idle"] == "Pause idle"
        await pilot.press("space")
        await pilot.pause()
        assert _footer(app)["pause_idle"] == "Pause marked"
        footer = app.query_one(Footer)
        await pilot.pause(0.1)
        assert any("Pause marked" in str(key.description) for key in footer.children)
        await pilot.press("escape")  # clears the marks
        await pilot.pause()
        assert _footer(app)["pause_idle"] == "Pause idle"


def test_a_footer_too_wide_drops_entries_from_its_right_end_help_and_quit_last():
    entries = [("detail", "⏎", "Detail"), ("filter", "/", "Filter"), ("help", "?", "Help"),
               ("quit", "q", "Quit")]
    assert fit_footer(entries, 80) == set()
    assert fit_footer(entries, 24) == {1}  # 9 + 9 + 7 + 7 = 32 cells: Filter goes first
    assert fit_footer(entries, 15) == {0, 1}
    assert fit_footer(entries, 8) == {0, 1, 2}  # Help before Quit, only when all else is gone


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_the_footer_has_its_keys_in_the_first_frame(make_app, size):
    """Textual's own footer stays empty until the first focus change has been handled, a
    frame after the first paint: at start-up the dashboard's keys are there at once."""
    app, _ = make_app()
    async with app.run_test(size=size):
        footer = app.query_one(Footer)  # no pause: the state the first frame was drawn from
        offered = {str(key.description) for key in footer.children}
        assert {"Quit", "Help"} <= offered
        assert footer.compact == (size[0] < 140)


async def test_at_80_columns_no_footer_word_is_cut_when_workers_are_marked(make_app, workers):
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.backend.collect()
        await pilot.pause()
        await pilot.press("space")  # "Pause marked" is longer than "Pause idle"
        await pilot.pause(0.2)
        shown = _footer(app)
        assert shown["pause_idle"] == "Pause marked"
        assert {"quit", "help"} <= set(shown)
        footer = app.query_one(Footer)
        keys = [key for key in footer.children if key.display]
        assert sum(key.region.width for key in keys) <= 80
        assert all(key.region.right <= 80 for key in keys)


async def test_q_goes_back_on_sub_screens_and_quits_only_the_main_one(make_app):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.backend.collect()
        await pilot.pause()
        for opener in ("enter", "question_mark", "dollar_sign"):
            await pilot.press(opener)
            await pilot.pause()
            assert app.screen is not app.main_screen
            assert "quit" not in _footer(app)
            await pilot.press("q")
            await pilot.pause()
            assert app.screen is app.main_screen and app.is_running
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


@pytest.mark.parametrize(
    ("size", "classes"),
    [((160, 48), {"-wide", "-tall"}), ((80, 24), {"-compact", "-short"})],
)
async def test_the_first_frame_has_the_layout_of_the_terminal_size(make_app, size, classes):
    """Textual sets the breakpoint classes on its first resize, after the first frame: the
    dashboard's screen has them from the start, so it is not laid out twice (nor flashes)."""
    app, _ = make_app()
    async with app.run_test(size=size):
        fresh = app.get_default_screen()  # as the app makes it, before any resize reaches it
        assert set(fresh.classes) == classes


async def test_the_footer_fits_itself_to_a_resize(make_app):
    """Compact, without the palette's key, below 140 columns; spaced, with it, above."""
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for size, wide in (((80, 24), False), (SIZE, True)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
            footer = app.query_one(Footer)
            offered = {str(key.description) for key in footer.children}
            assert footer.compact is not wide
            assert ("palette" in offered) is wide, offered
            assert {"Quit", "Help"} <= offered
