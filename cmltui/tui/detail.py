"""A worker's detail screen (Enter on a row; Esc goes back): everything known about one worker.

Identity, addresses and an ssh line, the full CML health, licence and version, its labs, the
pause/resume history, this worker's own audit entries, its CPU/memory/disk history for the
session as a plot, and every error in full, wrapped. It follows the snapshot channel, so what it
shows stays current while it is open. The audit entries come from the backend, read off the UI
thread when the screen opens and when an action on this worker is reported.

The plot is `textual-plotext` (Textualize's widget over plotext): a real line chart with axes
and a legend inside Textual's layout, from a maintained library, where Textual's own `Sparkline`
has neither axes nor several series. Each series has its own marker letter, so the plot reads
without colour too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Final

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from cmltui import keymap
from cmltui.api.backend import AuditEntry
from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import ActivityUpdated
from cmltui.domain.idle import idle_words
from cmltui.keymap import Scope
from cmltui.tui import hints
from cmltui.tui.bus import ActivityArrived, SnapshotArrived
from cmltui.tui.fmt import NONE, duration, licence_word, local_time, shown_time
from cmltui.tui.hints import KeyHints, own_hint
from cmltui.tui.host import host_of
from cmltui.tui.panels import price_text, saved_text
from cmltui.tui.reach import ssh_command
from cmltui.tui.safe import shown_lines as visible

log = logging.getLogger(__name__)

LABEL = 14
AUDIT_ENTRIES: Final = 50
MAX_TAGS = 40
MAX_LABS = 50
MAX_FACTS = 60
METRICS: tuple[tuple[str, str, str], ...] = (
    # (history metric, legend, marker)
    ("cpu", "CPU %", "c"),
    ("memory", "MEM %", "m"),
    ("disk", "DSK %", "d"),
)


def _row(text: Text, label: str, value: object, style: str = "") -> None:
    text.append(f"{label:<{LABEL}}", "dim")
    text.append(visible(NONE if value is None or value == "" else value), style)
    text.append("\n")


def _title(text: Text, title: str) -> None:
    if text:
        text.append("\n")
    text.append(title + "\n", "bold underline")


def _facts(text: Text, facts: Mapping[str, Any] | None, prefix: str = "") -> int:
    """Nested CML facts as `key: value` lines (bounded: outside data)."""
    shown = 0
    for key, value in list((facts or {}).items())[:MAX_FACTS]:
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            shown += _facts(text, value, name + ".")
        else:
            if isinstance(value, list):
                value = ", ".join(visible(v, limit=200) for v in value[:20])
            text.append(f"{visible(name, limit=120)}: ", "dim")
            text.append(visible(NONE if value is None or value == "" else value, limit=1000) + "\n")
            shown += 1
    return shown


def identity_text(dto: CMLWorkerDto, now: datetime) -> Text:
    text = Text()
    _title(text, "Identity")
    _row(text, "Name", dto.name, "bold")
    _row(text, "Instance", dto.id)
    _row(text, "Status", f"{dto.status.value} · EC2 {dto.ec2_system_status_check or NONE}")
    _row(text, "Type", dto.instance_type or NONE)
    text.append(f"{'Price':<{LABEL}}", "dim")
    text.append_text(price_text(dto))  # with where it came from: api, cache, table, config
    text.append("\n")
    _row(text, "Region", dto.aws_region)
    ami = " · ".join(visible(v) for v in (dto.ami_id, dto.ami_name) if v) or NONE
    _row(text, "AMI", ami)
    _row(text, "Owner", dto.created_by)
    _row(text, "Launched", local_time(dto.created_at, now=now))
    tags = sorted(dto.aws_tags.items())
    for key, value in tags[:MAX_TAGS]:
        _row(text, "Tag", f"{visible(key, limit=128)}={visible(value, limit=256)}", "cyan")
    if len(tags) > MAX_TAGS:
        text.append(f"… and {len(tags) - MAX_TAGS} more tags\n", "dim")
    return text


def addresses_text(dto: CMLWorkerDto, ssh_template: str, keys: KeyHints) -> Text:
    text = Text()
    _title(text, "Addresses")
    _row(text, "CML URL", dto.https_endpoint, "bold")
    _row(text, "Public IP", dto.public_ip)
    _row(text, "Private IP", dto.private_ip)
    _row(text, "Public DNS", dto.public_dns)
    _row(text, "Private DNS", dto.private_dns)
    _row(text, "ssh", ssh_command(dto, ssh_template))
    text.append(keys.join(hints.OPENS_CML, hints.COPIES) + "\n", "dim")
    return text


def cml_text(dto: CMLWorkerDto, now: datetime) -> Text:
    text = Text()
    _title(text, "CML")
    _row(text, "Service", dto.service_status.value)
    _row(text, "Version", dto.cml_version)
    _row(text, "Ready", dto.cml_ready)
    _row(text, "Uptime", duration(dto.cml_uptime_seconds))
    _row(text, "Last synced", local_time(dto.cml_last_synced_at, seconds=True, now=now))
    if dto.cml_stale_seconds is not None:
        _row(text, "Stale", f"data {duration(dto.cml_stale_seconds)} old", "yellow")
    _row(text, "Licence", licence_word(dto), "bold")
    _facts(text, dto.cml_license_info, "licence.")
    _facts(text, dto.cml_system_health, "health.")
    _facts(text, dto.cml_system_info, "system.")
    return text


def labs_text(dto: CMLWorkerDto) -> Group:
    """Title, owner, state, nodes: a grid whose title column gives way first."""
    heading = Text()
    _title(heading, "Labs")
    if dto.labs is None:
        heading.append("unknown (CML not reachable)", "dim")
        return Group(heading)
    if not dto.labs:
        heading.append("none", "dim")
        return Group(heading)
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(no_wrap=True, overflow="ellipsis", max_width=14, style="cyan")
    grid.add_column(no_wrap=True, overflow="ellipsis", max_width=16)
    grid.add_column(no_wrap=True, justify="right")
    for lab in sorted(dto.labs, key=lambda lab: lab.title.lower())[:MAX_LABS]:
        started = lab.state == "STARTED"
        grid.add_row(
            Text(visible(lab.title, limit=120)),
            Text(visible(lab.owner or NONE, limit=60)),
            Text(visible(lab.state, limit=30), "bold" if started else "dim"),
            Text(f"{NONE if lab.node_count is None else lab.node_count} nodes"),
        )
    heading.rstrip()
    parts: list[Text | Table] = [heading, grid]
    if len(dto.labs) > MAX_LABS:
        parts.append(Text(f"… and {len(dto.labs) - MAX_LABS} more", "dim"))
    parts.append(Text())
    return Group(*parts)


def history_text(dto: CMLWorkerDto, now: datetime) -> Text:
    text = Text()
    _title(text, "Pause / resume")
    reason = getattr(dto.pause_reason, "value", dto.pause_reason)
    paused = shown_time(dto, "last_paused_at", dto.last_paused_at, now=now) or NONE
    _row(text, "Last pause", f"{paused} by {dto.paused_by or NONE} ({reason or NONE})")
    resumed = shown_time(dto, "last_resumed_at", dto.last_resumed_at, now=now) or NONE
    _row(text, "Last resume", f"{resumed} by {dto.resumed_by or NONE}")
    _row(text, "Pauses", f"auto {dto.auto_pause_count} · manual {dto.manual_pause_count}")
    _row(text, "Resumes", f"auto {dto.auto_resume_count} · manual {dto.manual_resume_count}")
    idle = NONE if dto.idle_minutes is None else duration(dto.idle_minutes * 60)
    _row(text, "Idle", f"{idle} · {idle_words(dto.idle_state).long}")
    text.append(f"{'Saved':<{LABEL}}", "dim")
    text.append_text(saved_text(dto, now))
    text.append("\n")
    return text


def audit_text(entries: Iterable[Mapping[str, Any]] | None, keys: KeyHints) -> Text:
    """The worker's audit entries; None while they are being read."""
    text = Text()
    _title(text, "Audit (this worker)")
    count = 0
    for entry in entries or ():
        count += 1
        text.append(f"{visible(entry.get('time', '?'), limit=40)[:19]:<20}", "dim")
        text.append(f"{visible(entry.get('action', '?'), limit=40)} ", "bold")
        result = visible(entry.get("result", "?"), limit=40)
        text.append(result, "green" if result == "ok" else "yellow")
        text.append(f" by {visible(entry.get('operator', '?'), limit=80)}")
        if entry.get("error"):
            text.append(f" · {visible(entry['error'], limit=500)}", "#ff6b6b")
        text.append("\n")
    if entries is None:
        text.append("reading…\n", "dim")
    elif not count:
        text.append("no entries\n", "dim")
    text.append(f"({keys(hints.HELP)}: it says where the audit log is)", "dim")
    return text


def errors_text(dto: CMLWorkerDto) -> Text:
    """Every error in full: the screen wraps them instead of cutting them."""
    text = Text()
    _title(text, "Errors")
    if not dto.errors:
        text.append("none\n", "dim")
    for source, message in sorted(dto.errors.items()):
        text.append(f"{visible(source, limit=40)}: ", "bold #ff6b6b")
        text.append(visible(message) + "\n")
    return text


class HistoryPlot(PlotextPlot):
    """CPU, memory and disk for this session (what the app kept since it started)."""

    DEFAULT_CSS = "HistoryPlot { height: 14; }"

    def show(self, series: Mapping[str, tuple[float | None, ...]], interval: float) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("CPU / memory / disk this session")
        plt.ylim(0, 100)
        count = max((len(values) for values in series.values()), default=0)
        unit, scale = ("seconds", 1.0) if count * interval <= 300 else ("minutes", 60.0)
        for metric, legend, marker in METRICS:
            values = series.get(metric, ())
            points = [(i, v) for i, v in enumerate(values) if v is not None]
            if points:
                xs = [(i - count + 1) * interval / scale for i, _ in points]
                plt.plot(xs, [v for _, v in points], label=legend, marker=marker)
        plt.xlabel(f"{unit} ago (a sample every {interval:g} s)")
        self.refresh()


class WorkerDetailScreen(Screen[None]):
    """The detail of one worker; it follows the snapshots while open."""

    SCOPE: ClassVar = Scope.DETAIL
    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back", priority=True),
        # In the footer here (not on the table's, which must fit 80 columns); same ids, so a
        # `[keys]` remap moves them too.
        *(
            Binding(
                keymap.BY_ID[name].keys,
                f"app.{keymap.BY_ID[name].action}",
                label,
                id=keymap.BINDING_PREFIX + name,
            )
            for name, label in (("open_url", "Open"), ("clipboard", "Copy"))
        ),
    ]
    DEFAULT_CSS = """
    WorkerDetailScreen #worker-body { height: 1fr; }
    WorkerDetailScreen #worker-columns { height: auto; }
    WorkerDetailScreen .worker-column { width: 1fr; height: auto; padding: 0 1; }
    WorkerDetailScreen Static { width: 100%; height: auto; }
    WorkerDetailScreen #worker-title {
        height: 1; background: $primary; color: $text; text-style: bold; padding: 0 1;
    }
    """
    NARROW = 120

    def __init__(self, worker_id: str) -> None:
        super().__init__()
        self.worker_id = worker_id
        self.audit_entries: list[AuditEntry] | None = None  # None until the backend answered
        self.audit_reads = 0  # how often the backend was asked (for tests)

    def compose(self) -> ComposeResult:
        yield Static(id="worker-title")
        with VerticalScroll(id="worker-body"), Horizontal(id="worker-columns"):
            with Container(id="worker-left", classes="worker-column"):
                yield Static(id="identity")
                yield Static(id="addresses")
                yield Static(id="errors")
                yield Static(id="cml")
            with Container(id="worker-right", classes="worker-column"):
                yield HistoryPlot(id="plot")
                yield Static(id="history")
                yield Static(id="labs")
                yield Static(id="audit")
        yield Footer()

    def on_mount(self) -> None:
        host = host_of(self)
        host.bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)
        host.bus.activity.subscribe(self, self._on_activity, immediate=True)
        self.query_one("#worker-body").focus()
        self._show()
        self._read_audit()

    def on_resize(self) -> None:
        narrow = self.size.width < self.NARROW
        self.set_class(narrow, "-narrow")
        self.query_one("#worker-columns").styles.layout = "vertical" if narrow else "horizontal"
        footer = self.query_one(Footer)
        footer.compact = narrow
        footer.show_command_palette = not narrow

    def _on_snapshot(self, _message: SnapshotArrived) -> None:
        self._show()

    def _on_activity(self, message: ActivityArrived) -> None:
        """An action on this worker (a toggle, pause or resume) wrote to the audit log: read
        it again. Activity checks write nothing there, so they are not worth a read."""
        event = message.event
        if event.worker_id == self.worker_id and not isinstance(event, ActivityUpdated):
            self._read_audit()

    def _read_audit(self) -> None:
        self.run_worker(self._load_audit(), group="audit", exclusive=True, exit_on_error=False)

    async def _load_audit(self) -> None:
        """The backend reads the audit log off the event loop; the screen only shows it."""
        host = host_of(self)
        self.audit_reads += 1
        try:
            entries = await host.backend.audit_entries(self.worker_id, AUDIT_ENTRIES)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an unreadable log is shown as empty, never a crash
            log.warning("audit entries of %s not read: %s", self.worker_id, exc)
            entries = []
        self.audit_entries = list(entries)
        self.query_one("#audit", Static).update(audit_text(self.audit_entries, host.hints))

    def _show(self) -> None:
        host = host_of(self)
        dto = host.view.dto(self.worker_id)
        title = self.query_one("#worker-title", Static)
        back = own_hint(self.BINDINGS, "back", "{key}: back")
        if dto is None:
            title.update(Text(f"{self.worker_id} is no longer listed · {back}"))
            return
        now = host.clock.now()
        title.update(Text(f"{visible(dto.name)} · {dto.id} · {back}"))
        self.query_one("#identity", Static).update(identity_text(dto, now))
        addresses = addresses_text(dto, host.config.ui.ssh, host.hints)
        self.query_one("#addresses", Static).update(addresses)
        self.query_one("#errors", Static).update(errors_text(dto))
        self.query_one("#cml", Static).update(cml_text(dto, now))
        self.query_one("#history", Static).update(history_text(dto, now))
        self.query_one("#labs", Static).update(labs_text(dto))
        self.query_one("#audit", Static).update(audit_text(self.audit_entries, host.hints))
        series = {metric: host.history.series(dto.id, metric) for metric, _l, _m in METRICS}
        self.query_one(HistoryPlot).show(series, host.backend.interval)

    def action_back(self) -> None:
        self.dismiss(None)
