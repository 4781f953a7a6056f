"""The one table of the dashboard's actions (the README's "Keys").

Key bindings, the footer, the help screen, the command palette, every hint that names a key,
which screens an action works on, and the config's `[keys]` section are all derived from
`ACTIONS`, so a key, a label, a description or a scope is written once. Plain Python (no
Textual): the config validates `[keys]` against this table before any screen exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

BINDING_PREFIX = "cmltui."


class Scope(StrEnum):
    """Where an action works: each screen says which one it is."""

    MAIN = "main"
    """The dashboard: table, detail pane, activity log."""
    DETAIL = "detail"
    """A worker's detail screen: the worker's own actions."""
    INFO = "info"
    """The help and cost screens: what does not need a selected worker."""
    DIALOG = "dialog"
    """A confirmation or the copy menu: only its own keys, and leaving the app."""


_EVERYWHERE: Final = frozenset(Scope)
_WORKER: Final = frozenset({Scope.MAIN, Scope.DETAIL})
_VIEW: Final = frozenset({Scope.MAIN, Scope.DETAIL, Scope.INFO})
_MAIN: Final = frozenset({Scope.MAIN})
_DETAIL: Final = frozenset({Scope.DETAIL})


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
    scopes: frozenset[Scope] = _MAIN
    """The screens it works on (elsewhere its key does nothing and the footer leaves it out)."""


# fmt: off
ACTIONS: tuple[ActionSpec, ...] = (
    # id, action, default keys, description, footer label, palette title; scopes
    ActionSpec("detail", "open_detail", "enter",
               "the selected worker's detail screen (Esc: back)", "Detail", "Worker detail"),
    ActionSpec("toggle_idle", "toggle_idle", "i",
               "toggle idle detection for the selected worker", "Idle", "Toggle idle detection",
               scopes=_WORKER),
    ActionSpec("pause", "pause", "p",
               "pause the selected worker (asks first)", "Pause", "Pause worker", scopes=_WORKER),
    ActionSpec("resume", "resume", "r",
               "resume the selected worker (asks first)", "Resume", "Resume worker",
               scopes=_WORKER),
    # The labs table of a worker's detail screen says these keys beside it (not the footer,
    # which must fit 80 columns).
    ActionSpec("stop_lab", "stop_lab", "h",
               "halt (stop) the lab under the cursor on a worker's detail screen (asks first)",
               "", "Stop lab", scopes=_DETAIL),
    ActionSpec("start_lab", "start_lab", "t",
               "start the lab under the cursor (asks first)", "", "Start lab", scopes=_DETAIL),
    ActionSpec("wipe_lab", "wipe_lab", "w",
               "wipe the stopped lab under the cursor: its nodes go back to their definitions "
               "(asks first)", "", "Wipe lab", scopes=_DETAIL),
    ActionSpec("pause_idle", "pause_idle", "P",
               "pause the marked workers, or every idle one if none is marked (asks first)",
               "Pause idle", "Pause all idle (or marked) workers"),
    ActionSpec("mark", "mark", "space,v",
               "mark or unmark the selected worker (for a bulk pause)", "Mark", "Mark worker"),
    ActionSpec("open_url", "open_url", "o",
               "open the worker's CML web UI (or show its URL)", "", "Open CML web UI",
               scopes=_WORKER),
    ActionSpec("clipboard", "clipboard", "y",
               "copy the worker's id, URL, address or ssh command", "", "Copy…", scopes=_WORKER),
    ActionSpec("filter", "filter", "slash",
               "filter (owner:bob, lab:…, user:…; Enter keeps it)", "Filter", "Filter workers"),
    ActionSpec("clear", "clear", "escape",
               "clear the filter, then the marks", "", "Clear filter, then marks"),
    ActionSpec("sort", "sort", "s",
               "sort by the next column to the right (or click a title)", "",
               "Sort: next column"),
    ActionSpec("sort_reverse", "sort_reverse", "S",
               "reverse the sort (or click the sorted title again)", "", "Sort: reverse"),
    ActionSpec("top", "top", "g", "go to the first worker", "", ""),
    ActionSpec("bottom", "bottom", "G", "go to the last worker", "", ""),
    ActionSpec("details_pane", "details_pane", "d",
               "show or hide the detail pane (hidden below 140 columns)", "", "Detail pane"),
    ActionSpec("activity", "activity", "a",
               "activity log full height, focused (again: back)", "", "Activity log"),
    ActionSpec("refresh", "refresh", "R",
               "refresh now (runs a collection cycle)", "", "Refresh now", scopes=_VIEW),
    ActionSpec("freeze", "freeze", "f",
               "freeze the view; collection goes on", "", "Freeze / unfreeze view",
               scopes=_VIEW),
    ActionSpec("slower", "slower", "plus",
               "refresh less often: 2 5 10 15 30 60 120 300 600 s", "", "Interval: slower",
               scopes=_VIEW),
    ActionSpec("faster", "faster", "minus",
               "refresh more often (the same steps)", "", "Interval: faster", scopes=_VIEW),
    ActionSpec("cost", "cost", "dollar_sign",
               "cost: burn, idle burn and savings by owner, type and region", "",
               "Cost breakdown", scopes=frozenset({Scope.MAIN, Scope.INFO})),
    ActionSpec("help", "help", "question_mark",
               "this help: keys, cues and where files go", "Help", "Help", scopes=_VIEW),
    ActionSpec("quit", "quit", "q", "quit", "Quit", "", scopes=_EVERYWHERE),
    ActionSpec("interrupt", "quit", "ctrl+c",
               "leave at once, from anywhere (even while typing a filter)",
               priority=True, scopes=_EVERYWHERE),
)
# fmt: on

BY_ID: dict[str, ActionSpec] = {spec.id: spec for spec in ACTIONS}
SCOPES_BY_ACTION: dict[str, frozenset[Scope]] = {}
for _spec in ACTIONS:  # `quit` runs from two entries (q, ctrl+c): the union of their scopes
    SCOPES_BY_ACTION[_spec.action] = SCOPES_BY_ACTION.get(_spec.action, frozenset()) | _spec.scopes


def works_on(action: str, scope: Scope) -> bool:
    """Whether an app action works on a screen of `scope` (actions not in the table always do)."""
    scopes = SCOPES_BY_ACTION.get(action)
    return scopes is None or scope in scopes


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
_HINTED = {
    **_PRETTY,
    "escape": "Esc",
    "enter": "Enter",
    "comma": ",",
    "up": "↑",
    "down": "↓",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
}


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


def key_names(keys: str) -> list[str]:
    """Each key of a key list as a hint names it: `?`, `/`, `space`, `Esc`, `Enter`, `ctrl+f`."""
    return [_HINTED.get(name, name) for name in split_keys(keys)]


def hint_key(keys: str) -> str:
    """The key a hint names for a key list: its first (the one the footer shows)."""
    names = key_names(keys)
    return names[0] if names else "(no key)"


def palette_entries() -> Iterable[ActionSpec]:
    return (spec for spec in ACTIONS if spec.palette)
