"""Reaching the worker itself: open its CML web UI, copy its id, URL, addresses or ssh line.

Copying goes through Textual's `copy_to_clipboard` (OSC 52: the terminal sets the clipboard,
which works over SSH). Opening needs a browser on this machine; over SSH, or with no display,
the URL is shown instead (and written to the activity log) so it can be copied or clicked.
Only a URL the trust rule accepts (README, "Security") is opened, shown for opening or offered
for copying; anything else is refused with one line that says why.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cmltui.api.dto import CMLWorkerDto
from cmltui.domain.addresses import url_shape_refusal
from cmltui.keymap import Scope
from cmltui.tui import hints
from cmltui.tui.hints import own_hint
from cmltui.tui.host import Host
from cmltui.tui.safe import shown as visible

SSH_TEMPLATE = "ssh -p 1122 sysadmin@{host}"
"""CML's own operating-system console (Cockpit's sysadmin on port 1122); `[ui] ssh` overrides."""


def has_display(env: Mapping[str, str] | None = None) -> bool:
    """Whether a browser opened here would be seen by the operator (not over SSH)."""
    env = os.environ if env is None else env
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def ssh_host(dto: CMLWorkerDto) -> str | None:
    """The address to reach the worker at; the mapper keeps only valid addresses in the DTO
    (`cmltui.domain.addresses`), so nothing else can become part of the ssh line."""
    return dto.public_ip or dto.public_dns or dto.private_ip


def ssh_command(dto: CMLWorkerDto, template: str = SSH_TEMPLATE) -> str | None:
    host = ssh_host(dto)
    return template.format(host=host) if host else None


def endpoint_refusal(dto: CMLWorkerDto) -> str | None:
    """Why the worker's CML URL must not be opened or offered: the mapper's verdict (the one
    trust rule), and, whatever a DTO says, never anything but a plain http(s) URL."""
    url = dto.https_endpoint
    if not url:
        return None
    return dto.https_endpoint_refusal or url_shape_refusal(url)


def trusted_url(dto: CMLWorkerDto) -> str | None:
    """The worker's CML URL when the trust rule lets it leave the app, else None."""
    return dto.https_endpoint if dto.https_endpoint and endpoint_refusal(dto) is None else None


def copy_choices(dto: CMLWorkerDto, template: str = SSH_TEMPLATE) -> list[tuple[str, str]]:
    """(what, value) of everything worth copying, in menu order; absent values are left out,
    and so is a CML URL that is not trusted (a lookalike login page must not be offered)."""
    choices = [
        ("instance id", dto.id),
        ("CML URL", trusted_url(dto)),
        ("public IP", dto.public_ip),
        ("private IP", dto.private_ip),
        ("public DNS", dto.public_dns),
        ("private DNS", dto.private_dns),
        ("ssh command", ssh_command(dto, template)),
        ("name", dto.name),
    ]
    return [(what, value) for what, value in choices if value]


def open_cml(app: Host, dto: CMLWorkerDto | None, env: Mapping[str, str] | None = None) -> str:
    """Open the worker's CML web UI, or show its URL; returns what happened (for tests)."""
    if dto is None:
        app.notify("No worker selected.", severity="warning", timeout=3)
        return "none"
    url = dto.https_endpoint
    if not url:
        app.notify(
            f"{visible(dto.name)} has no CML address (no public or private IP).",
            severity="warning",
            timeout=5,
            markup=False,
        )
        return "none"
    refusal = endpoint_refusal(dto)
    if refusal is not None:
        message = f"Not opened: {visible(refusal)}"
        app.note(f"{visible(dto.name)}: {message}")
        app.notify(message, severity="warning", timeout=8, markup=False)
        return "refused"
    if has_display(env):
        app.open_url(url)
        app.notify(f"Opening {visible(url)}", timeout=4, markup=False)
        return "opened"
    app.note(f"CML web UI of {visible(dto.name)}: {visible(url)}")
    app.notify(
        f"{visible(url)} · no display here: {app.hints(hints.COPIES)} it",
        title=f"CML web UI of {visible(dto.name)}",
        timeout=15,
        markup=False,
    )
    return "shown"


def copy_menu(app: Host, dto: CMLWorkerDto | None) -> None:
    if dto is None:
        app.notify("No worker selected.", severity="warning", timeout=3)
        return
    choices = copy_choices(dto, app.config.ui.ssh)

    def copied(index: int | None) -> None:
        if index is None:
            return
        what, value = choices[index]
        # What is copied is what was shown: no control character, no lone surrogate (which
        # the clipboard's UTF-8 could not carry) leaves the app through the clipboard either.
        text = visible(value)
        try:
            app.copy_to_clipboard(text)
        except (UnicodeError, ValueError) as error:
            app.notify(f"Could not copy {what}: {visible(str(error), 120)}", markup=False)
            return
        how = "" if text == value else " (as shown: control characters made visible)"
        app.notify(f"Copied {what}{how}: {text}", timeout=4, markup=False)

    app.push_screen(CopyMenu(dto.name, choices), copied)


class CopyMenu(ModalScreen[int | None]):
    """What to copy: a number or Enter picks, Esc closes."""

    SCOPE: ClassVar = Scope.DIALOG
    BINDINGS: ClassVar = [
        Binding("escape,q", "dismiss_menu", "Close"),
        *(Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10)),
    ]
    DEFAULT_CSS = """
    CopyMenu { align: center middle; }
    CopyMenu > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    CopyMenu OptionList { height: auto; max-height: 12; border: none; }
    CopyMenu #copy-hint { color: $text-muted; height: 1; }
    """

    def __init__(self, name: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._name = name
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Copy"
            options = []
            for number, (what, value) in enumerate(self.choices, start=1):
                label = Text(f"{number} ", style="bold cyan")
                label.append(f"{what:<12}", "dim")
                label.append(visible(value))
                options.append(Option(label))
            yield OptionList(*options)
            pick = own_hint(OptionList.BINDINGS, "select", "number or {key} picks")
            close = own_hint(self.BINDINGS, "dismiss_menu", "{key} closes")
            yield Static(Text(f"{visible(self._name)} · {pick} · {close}"), id="copy-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self.choices):
            self.dismiss(index)

    def action_dismiss_menu(self) -> None:
        self.dismiss(None)
