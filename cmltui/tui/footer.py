"""What the footer offers, by the keymap's rules: no AWS write in read-only mode, and `P`
named for what it will do ("Pause marked" while workers are marked).

Textual's footer shows a screen's `active_bindings`; the dashboard's screens mix in
`FooterRules`, which rewrites only how a binding is shown. The keys themselves stay bound: in
read-only mode `p` still says why nothing is sent.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import ActiveBinding, Binding

from cmltui import keymap
from cmltui.tui.host import host_of


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
        return {
            key: active._replace(
                binding=shown_binding(active.binding, read_only=read_only, marked=marked)
            )
            for key, active in bindings.items()
        }
