"""Every hint that names a key, built from the key that is bound, never typed by hand.

A hint for a dashboard action names the key the config gave it (`[keys] freeze = "z"` makes
the FROZEN banner say `z`); a hint for a screen's own binding (a dialog's `y`, the detail
screen's `Esc`) names the keys of that binding. `HINTS` lists the dashboard's hints, so a test
can find each on screen and check the key it names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from textual.binding import Binding

from cmltui import keymap


@dataclass(frozen=True)
class Hint:
    """Words around one action's key: `template` holds `{key}` once."""

    action_id: str
    """The `keymap.ACTIONS` id whose configured key the hint names."""
    template: str


RESUME_FROM_FREEZE: Final = Hint("freeze", "press {key} to resume")
QUITS: Final = Hint("quit", "{key} quits")
HELP: Final = Hint("help", "{key} opens help")
ACTIVITY_LOG: Final = Hint("activity", "{key} opens the activity log")
OPENS_CML: Final = Hint("open_url", "{key} opens the CML web UI")
COPIES: Final = Hint("clipboard", "{key} copies")
PAUSES_MARKED: Final = Hint("pause_idle", "{key} pauses the marked ones")
STOPS_LAB: Final = Hint("stop_lab", "{key}: stop lab")
STARTS_LAB: Final = Hint("start_lab", "{key}: start lab")
WIPES_LAB: Final = Hint("wipe_lab", "{key}: wipe lab")
HINTS: Final = (
    RESUME_FROM_FREEZE,
    QUITS,
    HELP,
    ACTIVITY_LOG,
    OPENS_CML,
    COPIES,
    PAUSES_MARKED,
    STOPS_LAB,
    STARTS_LAB,
    WIPES_LAB,
)


class KeyHints:
    """The dashboard's hints for one configured keymap (`Config.keys` as a mapping)."""

    def __init__(self, chosen: Mapping[str, str]) -> None:
        self._chosen = chosen

    def keys(self, action_id: str) -> str:
        """An action's configured key list (Textual names, comma-separated)."""
        return self._chosen.get(action_id) or keymap.BY_ID[action_id].keys

    def key(self, action_id: str) -> str:
        """The key a hint names for an action (its first configured key)."""
        return keymap.hint_key(self.keys(action_id))

    def binding_keys(self, binding: Binding) -> str:
        """A binding's keys after the keymap: a binding with an action's id follows `[keys]`."""
        if binding.id and binding.id.startswith(keymap.BINDING_PREFIX):
            action_id = binding.id.removeprefix(keymap.BINDING_PREFIX)
            if action_id in keymap.BY_ID:
                return self.keys(action_id)
        return binding.key

    def __call__(self, hint: Hint) -> str:
        return hint.template.format(key=self.key(hint.action_id))

    def join(self, *hints: Hint) -> str:
        return " · ".join(self(hint) for hint in hints)


def bound_keys(
    bindings: Iterable[Binding | tuple[str, ...]], action: str, keys: KeyHints | None = None
) -> list[str]:
    """Every key a screen's own bindings give `action`, as hints name them, in order (with
    `keys`, a binding that carries an action's id names the key `[keys]` gave it)."""
    found: list[str] = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.action == action:
            chosen = keys.binding_keys(binding) if keys is not None else binding.key
            found += [k for k in keymap.key_names(chosen) if k not in found]
    return found


def either(keys: list[str]) -> str:
    """ "y", "n or Esc", "n, Esc or Enter"."""
    if len(keys) <= 1:
        return "".join(keys)
    return f"{', '.join(keys[:-1])} or {keys[-1]}"


def own_hint(
    bindings: Iterable[Binding | tuple[str, ...]],
    action: str,
    template: str,
    keys: KeyHints | None = None,
) -> str:
    """A hint for a screen's own binding: `template` with `{key}` as that binding's keys."""
    return template.format(key=either(bound_keys(bindings, action, keys)))


def closing_bindings(close: str, opened_by: str) -> list[Binding]:
    """Esc and `q` run `close`, and so does the key that opened the screen: its binding has
    that action's id, so a `[keys]` remap of `opened_by` moves it too."""
    return [
        Binding("escape,q", close, "Close", show=True),
        Binding(
            keymap.BY_ID[opened_by].keys,
            close,
            "Close",
            show=False,
            id=keymap.BINDING_PREFIX + opened_by,
        ),
    ]
