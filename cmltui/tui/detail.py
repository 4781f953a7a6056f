"""A worker's detail screen (Enter on a row; Esc or q goes back): an operator's page.

In the order an operator needs it: first what they act on (who the worker is, its addresses
and an ssh line, its idle state, pause history and savings, its labs, its own audit entries and
every error in full), then how it has been doing (one plot per metric), then what CML says in
words (service and version, health, licence, system), then the instance's own facts and tags,
and last every raw CML field, folded, each with its unit. At 80×24 the first screen holds the
addresses, the idle state and the pause/savings block.

The idle and pause blocks are the dashboard's own panels (`IdleStatusPanel`, `PausePanel`), so
they say exactly what the main screen says and follow activity events the same way. The labs
are a table the cursor moves in, keyed by lab id (`selected_lab_id`). The screen follows the
snapshot channel, so it stays current while open; the audit entries come from the backend,
read off the UI thread when the screen opens and when an action on this worker is reported.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Final

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Collapsible, DataTable, Static

from cmltui import keymap
from cmltui.api.backend import AuditEntry
from cmltui.api.dto import CMLWorkerDto, LabDto
from cmltui.api.events import ActivityUpdated
from cmltui.api.owner import owner_of
from cmltui.config import ThresholdsConfig
from cmltui.keymap import Scope
from cmltui.tui import hints
from cmltui.tui.braille import area_plot, span_of
from cmltui.tui.bus import ActivityArrived, SnapshotArrived
from cmltui.tui.cml_facts import (
    Fact,
    health_facts,
    licence_facts,
    raw_facts,
    system_facts,
    version_facts,
)
from cmltui.tui.fmt import NONE, duration, home_relative, level, local_time, percent
from cmltui.tui.footer import FooterRules, KeysFooter
from cmltui.tui.hints import KeyHints, own_hint
from cmltui.tui.host import host_of
from cmltui.tui.panels import IdleStatusPanel, PausePanel, price_text
from cmltui.tui.reach import endpoint_refusal, ssh_command
from cmltui.tui.safe import made_visible, plain, shown, shown_lines

log = logging.getLogger(__name__)

LABEL: Final = 12
AUDIT_ENTRIES: Final = 50
MAX_TAGS: Final = 40
MAX_LABS: Final = 200
PLOT_ROWS: Final = 3
PLOT_GUTTER: Final = 11
METRICS: Final[tuple[tuple[str, str, str], ...]] = (
    # (history metric, label, DTO field)
    ("cpu", "CPU", "cpu_utilization"),
    ("memory", "MEM", "memory_utilization"),
    ("disk", "DSK", "disk_utilization"),
)


def _row(text: Text, label: str, value: object, style: str = "") -> None:
    text.append(f"{label:<{LABEL}}", "dim")
    if isinstance(value, Text):
        text.append_text(made_visible(value))  # built from outside values: made visible here
    else:
        value = NONE if value is None or value == "" else value
        text.append(_continued(value, LABEL), style)
    text.append("\n")


def _continued(value: object, indent: int) -> str:
    """Outside text made visible, its own line breaks kept but each following line indented:
    a value's second line never starts at the left edge, where it could pass for a row of
    its own ("Detection   OFF" in an Owner tag)."""
    return shown_lines(value, indent=indent)


def _title(text: Text, title: str) -> None:
    text.append(title + "\n", "bold underline")


def _facts(text: Text, facts: Iterable[Fact]) -> None:
    for label, value, style in facts:
        _row(text, label, value, style)


def summary_text(dto: CMLWorkerDto) -> Text:
    """One line: state, EC2 checks, type, region and owner (what identifies it to a person)."""
    text = Text()
    text.append(dto.status.value, "bold")
    text.append(f" · EC2 {shown(dto.ec2_system_status_check or NONE, limit=30)}")
    text.append(f" · {shown(dto.instance_type or NONE, limit=40)}")
    text.append(f" · {shown(dto.aws_region, limit=40)}")
    if dto.aws_account:  # several accounts: which one it is billed to and paused in
        text.append(f" · account {shown(dto.aws_account, limit=64)}")
    text.append(f" · owner {shown(owner_of(dto), limit=80)}")
    return text


def addresses_text(dto: CMLWorkerDto, ssh_template: str, keys: KeyHints) -> Text:
    text = Text()
    _title(text, "Addresses")
    refusal = endpoint_refusal(dto)
    if dto.https_endpoint and refusal is not None:
        # Data, not a link: shown with why it is not trusted, never offered to open or copy.
        url = plain(dto.https_endpoint, "strike")
        url.append(" · not trusted", "bold #ff6b6b")
        _row(text, "CML URL", url)
    else:
        _row(text, "CML URL", dto.https_endpoint, "bold")
    for label, ip, dns in (
        ("Public", dto.public_ip, dto.public_dns),
        ("Private", dto.private_ip, dto.private_dns),
    ):
        _row(text, label, " · ".join(v for v in (ip, dns) if v) or None)
    _row(text, "ssh", ssh_command(dto, ssh_template))
    text.append(" " * LABEL + keys.join(hints.OPENS_CML, hints.COPIES), "dim")
    return text


def instance_text(dto: CMLWorkerDto, now: datetime) -> Text:
    """The instance's own facts and its tags: looked up, seldom acted on."""
    text = Text()
    _title(text, "Instance")
    _row(text, "Instance", dto.aws_instance_id)  # the id AWS knows (`dto.id` adds the account)
    _row(text, "Type", dto.instance_type)
    _row(text, "Price", price_text(dto))  # with where it came from: api, cache, table, config
    _row(text, "Region", dto.aws_region)
    if dto.aws_account:
        _row(text, "Account", dto.aws_account)
    ami = " · ".join(shown(v) for v in (dto.ami_id, dto.ami_name) if v) or NONE
    _row(text, "AMI", ami)
    _row(text, "Owner", owner_of(dto))
    _row(text, "Launched", local_time(dto.created_at, now=now))
    _row(text, "EC2 checks", dto.ec2_system_status_check)
    tags = sorted(dto.aws_tags.items())
    for key, value in tags[:MAX_TAGS]:
        _row(text, "Tag", f"{shown(key, limit=128)}={shown(value, limit=256)}", "cyan")
    if len(tags) > MAX_TAGS:
        text.append(f"… and {len(tags) - MAX_TAGS} more tags\n", "dim")
    text.rstrip()
    return text


def cml_text(dto: CMLWorkerDto, now: datetime) -> Text:
    """What CML says, in sentences: service and version, health, licence, system."""
    text = Text()
    _title(text, "CML")
    _facts(text, version_facts(dto, now))
    _facts(text, health_facts(dto))
    _facts(text, licence_facts(dto))
    _facts(text, system_facts(dto))
    text.rstrip()
    return text


def raw_text(dto: CMLWorkerDto, now: datetime) -> Text:
    text = Text()
    for key, value in raw_facts(dto, now):
        text.append(f"{key}: ", "dim")
        text.append(value + "\n")
    if not text:
        text.append("nothing read from CML yet", "dim")
    text.rstrip()
    return text


def labs_heading(dto: CMLWorkerDto, keys: KeyHints) -> Text:
    """`Labs  3 running of 4 · h: stop lab · t: start lab · w: wipe lab` (the cursor's lab)."""
    text = Text()
    text.append("Labs", "bold underline")
    if dto.labs is None:
        return text.append("  unknown (CML not reachable)", "dim")
    running = sum(1 for lab in dto.labs if lab.state == "STARTED")
    text.append(f"  {running} running of {len(dto.labs)}" if dto.labs else "  none", "dim")
    if dto.labs:
        text.append(" · " + keys.join(hints.STOPS_LAB, hints.STARTS_LAB, hints.WIPES_LAB), "dim")
    return text


def audit_text(entries: Iterable[Mapping[str, Any]] | None, audit_path: str) -> Text:
    """The worker's audit entries (None while they are being read), and where the log is."""
    text = Text()
    _title(text, "Audit (this worker)")
    count = 0
    for entry in entries or ():
        count += 1
        text.append(f"{shown(entry.get('time', '?'), limit=40)[:19]:<20}", "dim")
        text.append(f"{shown(entry.get('action', '?'), limit=40)} ", "bold")
        result = shown(entry.get("result", "?"), limit=40)
        text.append(result, "green" if result == "ok" else "yellow")
        text.append(f" by {shown(entry.get('operator', '?'), limit=80)}")
        if entry.get("error"):
            text.append(f" · {shown(entry['error'], limit=500)}", "#ff6b6b")
        text.append("\n")
    if entries is None:
        text.append("reading…\n", "dim")
    elif not count:
        text.append("no entries\n", "dim")
    text.append("audit log: ", "dim")
    text.append(shown(audit_path))
    return text


def errors_text(dto: CMLWorkerDto) -> Text:
    """Every error in full: the screen wraps them instead of cutting them."""
    text = Text()
    _title(text, "Errors")
    if not dto.errors:
        text.append("none", "dim")
    for source, message in sorted(dto.errors.items()):
        text.append(f"{shown(source, limit=40)}: ", "bold #ff6b6b")
        text.append(_continued(message, 2) + "\n")
    text.rstrip()
    return text


def plots_text(
    dto: CMLWorkerDto,
    series: Mapping[str, Sequence[float | None]],
    thresholds: ThresholdsConfig,
    interval: float,
    width: int,
) -> Text:
    """One braille plot per metric (0–100 %, newest at the right), each with its current
    value, least and most: no metric can hide another, and no legend sits on a line."""
    plot_width = max(4, width - PLOT_GUTTER)
    text = Text(no_wrap=True, overflow="crop")
    text.append("Utilization this session", "bold underline")
    text.append("  each plot 0–100 %\n", "dim")
    shown_count = 0
    for metric, label, field in METRICS:
        values = tuple(series.get(metric, ()))
        now_value = getattr(dto, field)
        lvl = level(now_value, thresholds)
        known = [v for v in values[-span_of(values, plot_width) :] if v is not None]
        shown_count = max(shown_count, span_of(values, plot_width))
        gutter = [
            f"{label} {percent(now_value):>4} {lvl.cue}",
            f" max {percent(max(known)) if known else NONE:>4}",
            f" min {percent(min(known)) if known else NONE:>4}",
        ]
        for row, line in enumerate(area_plot(values, plot_width, PLOT_ROWS)):
            text.append(f"{gutter[row]:<{PLOT_GUTTER}}", "bold" if row == 0 else "dim")
            text.append(line + "\n", lvl.style)
    span = duration(max(0, shown_count - 1) * interval) if shown_count else NONE
    axis = f"◂ {span} ago · a sample every {interval:g} s · now ▸"
    text.append(" " * PLOT_GUTTER + f"{axis:>{plot_width}}", "dim")
    return text


class MetricPlots(Widget):
    """The plots of `plots_text`, at the widget's width."""

    DEFAULT_CSS = f"MetricPlots {{ height: {2 + PLOT_ROWS * len(METRICS)}; }}"

    def __init__(self, worker_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.worker_id = worker_id

    def render(self) -> Text:
        host = host_of(self)
        dto = host.view.dto(self.worker_id)
        if dto is None:
            return Text()
        series = {metric: host.history.series(dto.id, metric) for metric, _l, _f in METRICS}
        width = self.size.width or 80
        thresholds = host.config.ui.thresholds
        return plots_text(dto, series, thresholds, host.backend.interval, width)


class LabsTable(DataTable[Text]):
    """The worker's labs, keyed by lab id: title, owner, state, nodes; the cursor picks one."""

    DEFAULT_CSS = "LabsTable { height: auto; max-height: 12; margin: 0 1; }"
    COLUMNS: ClassVar = (("title", "TITLE"), ("owner", "OWNER"), ("state", "STATE"))

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: tuple[tuple[Any, ...], ...] | None = None

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)
        self.add_column(Text("NODES", justify="right"), key="nodes")

    @property
    def selected_lab_id(self) -> str | None:
        """The lab under the cursor (None with no labs)."""
        if not self.row_count:
            return None
        row_key, _column = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def show(self, labs: Sequence[LabDto] | None) -> None:
        """The labs, running first; rebuilt only when one of them changed."""
        ordered = sorted(labs or (), key=lambda lab: (lab.state != "STARTED", lab.title.lower()))
        rows = tuple(
            (lab.id, lab.title, lab.owner, lab.state, lab.node_count) for lab in ordered[:MAX_LABS]
        )
        if rows == self._rows:
            return
        keep = self.selected_lab_id
        self._rows = rows
        self.clear()
        for lab_id, title, owner, state, nodes in rows:
            self.add_row(
                plain(title, limit=120),
                plain(owner or NONE, limit=60),
                plain(state, "bold green" if state == "STARTED" else "dim", limit=30),
                Text(NONE if nodes is None else str(nodes), justify="right"),
                key=lab_id,
            )
        ids = [row[0] for row in rows]
        if keep in ids:
            self.move_cursor(row=ids.index(keep), animate=False)
        self.display = bool(rows)


class WorkerDetailScreen(FooterRules, Screen[None]):
    """The detail of one worker; it follows the snapshots while open."""

    SCOPE: ClassVar = Scope.DETAIL
    BINDINGS: ClassVar = [
        # As in k9s and lazygit, a sub-screen's q goes back: quitting is the main screen's q
        # or ctrl+c.
        Binding("escape,q", "back", "Back", priority=True),
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
    WorkerDetailScreen .worker-column { width: 1fr; height: auto; }
    WorkerDetailScreen Static { width: 100%; height: auto; padding: 0 1; }
    WorkerDetailScreen Panel { padding: 0 1; }
    WorkerDetailScreen MetricPlots { padding: 0 1; }
    WorkerDetailScreen .detail-section { color: $text; text-style: bold underline; }
    WorkerDetailScreen #worker-title {
        height: 1; background: $primary; color: $text; text-style: bold;
    }
    WorkerDetailScreen #raw { margin: 1 0 0 0; }
    """
    NARROW = 120

    def __init__(self, worker_id: str) -> None:
        super().__init__()
        self.worker_id = worker_id
        self.audit_entries: list[AuditEntry] | None = None  # None until the backend answered
        self.audit_reads = 0  # how often the backend was asked (for tests)

    def compose(self) -> ComposeResult:
        host = host_of(self)
        config = host.config
        read_only = host.backend.context.read_only
        idle = IdleStatusPanel(
            host.bus, host.view, host.clock, config, read_only=read_only, id="idle"
        )
        pause = PausePanel(host.bus, host.view, host.clock, id="pause")
        for panel in (idle, pause):
            panel.worker_id = self.worker_id
        yield Static(id="worker-title")
        with VerticalScroll(id="worker-body"):
            with Horizontal(id="worker-columns"):
                with Container(id="worker-left", classes="worker-column"):
                    yield Static(id="summary")
                    yield Static(id="addresses")
                    yield Static("Idle", classes="detail-section")
                    yield idle
                    yield Static("Pause / resume · savings", classes="detail-section")
                    yield pause
                    yield Static(id="labs-heading")
                    yield LabsTable(id="labs")
                    yield Static(id="audit")
                    yield Static(id="errors")
                with Container(id="worker-right", classes="worker-column"):
                    yield MetricPlots(self.worker_id, id="plots")
                    yield Static(id="cml")
                    yield Static(id="identity")
            with Collapsible(title="raw CML fields (licensing, health, system)", id="raw"):
                yield Static(id="raw-fields")

    @property
    def selected_lab_id(self) -> str | None:
        """The lab the cursor is on in the labs table (None with no labs)."""
        return self.query_one(LabsTable).selected_lab_id

    async def on_mount(self) -> None:
        host = host_of(self)
        host.bus.snapshots.subscribe(self, self._on_snapshot, immediate=True)
        host.bus.activity.subscribe(self, self._on_activity, immediate=True)
        self.set_focus(self.query_one("#worker-body"))  # before the footer: it shows what works
        await self.mount(KeysFooter(wide_from=self.NARROW, width=self.size.width))
        self._show()
        self._read_audit()

    def on_resize(self) -> None:
        narrow = self.size.width < self.NARROW
        self.set_class(narrow, "-narrow")
        self.query_one("#worker-columns").styles.layout = "vertical" if narrow else "horizontal"

    def _on_snapshot(self, _message: SnapshotArrived) -> None:
        self._show()

    def _on_activity(self, message: ActivityArrived) -> None:
        """An action on this worker (a toggle, pause or resume) wrote to the audit log: read
        it again. Activity checks write nothing there, so they are not worth a read."""
        event = message.event
        if event.worker_id == self.worker_id and not isinstance(event, ActivityUpdated):
            self._read_audit()

    def on_collapsible_expanded(self, _event: Collapsible.Expanded) -> None:
        self._show_raw()

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
        self._show_audit()

    def _show_audit(self) -> None:
        path = home_relative(host_of(self).audit_path)
        self.query_one("#audit", Static).update(audit_text(self.audit_entries, path))

    def _show_raw(self) -> None:
        host = host_of(self)
        dto = host.view.dto(self.worker_id)
        if dto is not None and not self.query_one("#raw", Collapsible).collapsed:
            self.query_one("#raw-fields", Static).update(raw_text(dto, host.clock.now()))

    def _show(self) -> None:
        host = host_of(self)
        dto = host.view.dto(self.worker_id)
        title = self.query_one("#worker-title", Static)
        back = own_hint(self.BINDINGS, "back", "{key}: back")
        if dto is None:
            title.update(Text(f"{shown(self.worker_id)} is no longer listed · {back}"))
            return
        now = host.clock.now()
        title.update(Text(f"{shown(dto.name)} · {shown(dto.id)} · {back}"))
        self.query_one("#summary", Static).update(summary_text(dto))
        addresses = addresses_text(dto, host.config.ui.ssh, host.hints)
        self.query_one("#addresses", Static).update(addresses)
        self.query_one("#labs-heading", Static).update(labs_heading(dto, host.hints))
        self.query_one(LabsTable).show(dto.labs)
        self._show_audit()
        self.query_one("#errors", Static).update(errors_text(dto))
        self.query_one(MetricPlots).refresh()
        self.query_one("#cml", Static).update(cml_text(dto, now))
        self.query_one("#identity", Static).update(instance_text(dto, now))
        self._show_raw()

    def action_back(self) -> None:
        self.dismiss(None)
