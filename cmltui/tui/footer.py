"""What the footer offers, by the keymap's rules: no AWS write in read-only mode, and `P`
named for what it will do ("Pause marked" while workers are marked).

Textual's footer shows a screen's `active_bindings`; the dashboard's screens mix in
`FooterRules`, which rewrites only how a binding is shown. The keys themselves stay bound: in
read-only mode `p` still says why nothing is sent. A footer wider than the screen leaves out
entries from its right end, Help and Quit last, so no word is ever cut ("q Qui").
"""

from __future__ import annotations

from dataclasses import replace

from rich.cells import cell_len
from textual.binding import ActiveBinding, Binding
from textual.events import Resize
from textual.widgets import Footer

from cmltui import keymap
from cmltui.tui.host import host_of

KEPT_LAST: tuple[str, ...] = ("help", "quit")
"""Actions the footer drops only after every other entry, in this order: how to learn, then
how to leave."""
_ENTRY_SPACING = 2  # Textual's footer pads each key and its description by one cell


def fit_footer(entries: list[tuple[str, str, str]], width: int) -> set[int]:
    """Indexes of (action id, key shown, description) entries to leave out so the rest fit in
    `width` cells: from the right end, the `KEPT_LAST` ones only when nothing else is left."""
    widths = [cell_len(key) + cell_len(text) + _ENTRY_SPACING for _id, key, text in entries]
    total, dropped = sum(widths), set()
    order = [i for i in reversed(range(len(entries))) if entries[i][0] not in KEPT_LAST]
    order += [i for kept in KEPT_LAST for i, entry in enumerate(entries) if entry[0] == kept]
    for index in order:
        if total <= width:
            break
        dropped.add(index)
        total -= widths[index]
    return dropped


def shown_binding(binding: Binding, *, read_only: bool, marked: bool) -> Binding:
    """A binding as the footer shows it (the keymap's `writes` and `marked_label`)."""
    if not binding.id or not binding.id.startswith(keymap.BINDING_PREFIX):
        return binding
    spec = keymap.BY_ID.get(binding.id.removeprefix(keymap.BINDING_PREFIX))
    if spec is None:
        return binding
    if read_only and spec.writes:
        return replace(binding, show=False)
    if marked and spec.marked_label:
        return replace(binding, description=spec.marked_label)
    return binding


class FooterRules:
    """Mixed into a `Screen`: its footer follows `shown_binding`."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        host = host_of(self)  # type: ignore[arg-type]
        read_only, marked = host.backend.context.read_only, host.has_marks()
        shown = {
            key: active._replace(
                binding=shown_binding(active.binding, read_only=read_only, marked=marked)
            )
            for key, active in bindings.items()
        }
        # Textual's footer shows one entry per action, the first binding's key.
        by_action: dict[str, list[str]] = {}
        for key, active in shown.items():
            if active.binding.show:
                by_action.setdefault(active.binding.action, []).append(key)
        entries = [
            (
                (shown[keys[0]].binding.id or "").removeprefix(keymap.BINDING_PREFIX),
                self.app.get_key_display(shown[keys[0]].binding),  # type: ignore[attr-defined]
                shown[keys[0]].binding.description,
            )
            for keys in by_action.values()
        ]
        width = self.size.width  # type: ignore[attr-defined]
        groups = list(by_action.values())
        for index in fit_footer(entries, width) if width else ():
            for key in groups[index]:
                shown[key] = shown[key]._replace(binding=replace(shown[key].binding, show=False))
        return shown


class KeysFooter(Footer):
    """Textual's footer, with its keys in the first frame and its style fitted to its width.

    Textual's footer draws nothing until the screen's first focus change has been handled, a
    frame or two after the first paint (0.1 s at start-up, a blank line where the keys go).
    This one is ready when it is composed: its screen mounts it once its focus is set (the
    footer shows what the focused widget offers), before the first paint. Later changes
    (focus, marks, the keymap) recompose it as before. Below `wide_from` columns it is
    compact and leaves out the palette's key (ctrl+p is listed in the help).
    """

    def __init__(self, *, wide_from: int, width: int) -> None:
        super().__init__()
        self._wide_from = wide_from
        self._fit(width)  # the first frame's: a resize comes only after it
        self.set_reactive(Footer._bindings_ready, True)

    def on_resize(self, event: Resize) -> None:
        palette = self.show_command_palette
        self._fit(event.size.width)
        if self.show_command_palette != palette:
            self.refresh(recompose=True)  # Textual's footer reads it only when composing

    def _fit(self, width: int) -> None:
        wide = width >= self._wide_from
        self.compact = not wide
        self.show_command_palette = wide
