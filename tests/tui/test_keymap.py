"""One table of actions: bindings, footer, help, palette and `[keys]` all come from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import Footer

from cmltui import keymap
from cmltui.config import Config, ConfigError, KeysConfig, load_config
from cmltui.keymap import Scope
from cmltui.tui.app import CmltuiApp
from cmltui.tui.confirm import ConfirmActionScreen
from cmltui.tui.detail import WorkerDetailScreen
from cmltui.tui.help import help_table
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
    console.print(help_table(config.keys, config.ui.thresholds))
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
        palette = list(keymap.palette_entries())
        on_main = {spec.palette for spec in palette if keymap.works_on(spec.action, Scope.MAIN)}
        assert on_main <= titles
        assert "Theme" in titles  # Textual's own entries stay
        # the lab actions work on a worker's detail screen only, and are listed only there
        labs = {"Stop lab", "Start lab", "Wipe lab"}
        assert labs <= {spec.palette for spec in palette} and not labs & titles
        app.push_screen(WorkerDetailScreen(by_name(workers, "busy").instance_id))
        await pilot.pause()
        detail = {command.title for command in app.get_system_commands(app.screen)}
        assert labs <= detail and "Pause worker" in detail and "Sort: next column" not in detail
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
