"""The one table of the dashboard's actions (SPEC §5 "Keys").

Key bindings, the footer, the help screen, the command palette and the config's `[keys]`
section are all derived from `ACTIONS`, so a key, a label or a description is written once.
Plain Python (no Textual): the config validates `[keys]` against this table before any screen
exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BINDING_PREFIX = "cmltui."


@dataclass(frozen=True)
class ActionSpec:
    """One dashboard action: its config key, what it runs, its default keys and its words."""

    id: str
    """The `[keys]` config key and the binding id (after `BINDING_PREFIX`)."""
    action: str
    """The app action it runs (Textual action syntax)."""
    keys: str
    """Default keys: comma-separated Textual key names."""
    description: str
    """What the help screen and the command palette say."""
    label: str = ""
    """The footer label; empty keeps it out of the footer (it stays in help and the palette)."""
    palette: str = ""
    """The command-palette title; empty keeps it out of the palette."""
    priority: bool = False
    """Runs even when a text input has focus (ctrl+c only)."""


# fmt: off
ACTIONS: tuple[ActionSpec, ...] = (
    # id, action, default keys, description, footer label, palette title
    ActionSpec("detail", "open_detail", "enter",
               "the selected worker's detail screen (Esc: back)", "Detail", "Worker detail"),
    ActionSpec("toggle_idle", "toggle_idle", "i",
               "toggle idle detection for the selected worker", "Idle", "Toggle idle detection"),
    ActionSpec("pause", "pause", "p",
               "pause the selected worker (asks first)", "Pause", "Pause worker"),
    ActionSpec("resume", "resume", "r",
               "resume the selected worker (asks first)", "Resume", "Resume worker"),
    ActionSpec("pause_idle", "pause_idle", "P",
               "pause the marked workers, or every idle one if none is marked (asks first)",
               "Pause idle", "Pause all idle (or marked) workers"),
    ActionSpec("mark", "mark", "space,v",
               "mark or unmark the selected worker (for a bulk pause)", "Mark", "Mark worker"),
    ActionSpec("open_url", "open_url", "o",
               "open the worker's CML web UI (or show its URL)", "", "Open CML web UI"),
    ActionSpec("clipboard", "clipboard", "y",
               "copy the worker's id, URL, address or ssh command", "", "Copy…"),
    ActionSpec("filter", "filter", "slash",
               "filter (owner:bob, lab:…, user:…; Enter keeps it)", "Filter", "Filter workers"),
    ActionSpec("clear", "clear", "escape",
               "clear the filter, then the marks", "", "Clear filter, then marks"),
    ActionSpec("sort", "sort", "s",
               "sort by the next column (or click a column title)", "", "Sort: next column"),
    ActionSpec("sort_reverse", "sort_reverse", "S",
               "reverse the sort (or click the sorted title again)", "", "Sort: reverse"),
    ActionSpec("top", "top", "g", "go to the first worker", "", ""),
    ActionSpec("bottom", "bottom", "G", "go to the last worker", "", ""),
    ActionSpec("details_pane", "details_pane", "d",
               "show or hide the detail pane (hidden below 140 columns)", "", "Detail pane"),
    ActionSpec("activity", "activity", "a",
               "activity log full height, focused (again: back)", "", "Activity log"),
    ActionSpec("refresh", "refresh", "R",
               "refresh now (runs a collection cycle)", "", "Refresh now"),
    ActionSpec("freeze", "freeze", "f",
               "freeze the view; collection goes on", "", "Freeze / unfreeze view"),
    ActionSpec("slower", "slower", "plus",
               "refresh less often: 2 5 10 15 30 60 120 300 600 s", "", "Interval: slower"),
    ActionSpec("faster", "faster", "minus",
               "refresh more often (the same steps)", "", "Interval: faster"),
    ActionSpec("cost", "cost", "dollar_sign",
               "cost: burn, idle burn and savings by owner, type and region", "",
               "Cost breakdown"),
    ActionSpec("help", "help", "question_mark",
               "this help: keys, cues and where files go", "Help", "Help"),
    ActionSpec("quit", "quit", "q", "quit", "Quit", ""),
    ActionSpec("interrupt", "quit", "ctrl+c", "leave at once, from anywhere (as q does)",
               priority=True),
)
# fmt: on

BY_ID: dict[str, ActionSpec] = {spec.id: spec for spec in ACTIONS}

_CHARACTER_KEYS = {
    "/": "slash",
    "?": "question_mark",
    "+": "plus",
    "-": "minus",
    " ": "space",
    "$": "dollar_sign",
    "!": "exclamation_mark",
    "*": "asterisk",
    "#": "number_sign",
    "@": "at",
    ".": "full_stop",
    ":": "colon",
    ";": "semicolon",
    "=": "equals_sign",
    "<": "less_than_sign",
    ">": "greater_than_sign",
}
_PRETTY = {name: char for char, name in _CHARACTER_KEYS.items() if char != " "}


def split_keys(keys: str) -> list[str]:
    """Textual key names of a comma-separated key list (`?` and `question_mark` alike)."""
    if keys.strip() == ",":
        return ["comma"]
    names = []
    for part in keys.split(","):
        name = part if part == " " else part.strip()
        if name:
            names.append(_CHARACTER_KEYS.get(name, name))
    return names


def normalise(keys: str) -> str:
    """The comma-separated Textual key names that a `[keys]` value means."""
    return ",".join(split_keys(keys))


def pretty(keys: str) -> str:
    """A key list as people write it (`?`, `/`, `+`)."""
    return ",".join(_PRETTY.get(name, name) for name in split_keys(keys))


def collisions(chosen: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(key, first action id, second action id) for every key two actions share."""
    owner: dict[str, str] = {}
    found: list[tuple[str, str, str]] = []
    for action_id, keys in chosen.items():
        for key in split_keys(keys):
            if key in owner and owner[key] != action_id:
                found.append((key, owner[key], action_id))
            else:
                owner[key] = action_id
    return found


def keys_by_id(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every action's keys: the defaults, with `overrides` (config values) applied."""
    chosen = {spec.id: spec.keys for spec in ACTIONS}
    chosen.update({k: normalise(v) for k, v in (overrides or {}).items()})
    return chosen


def palette_entries() -> Iterable[ActionSpec]:
    return (spec for spec in ACTIONS if spec.palette)
