"""`cmltui snapshot --format table`: a plain table readable at 80 columns.

Names, states and errors come from AWS and CML, so every cell is made visible (no control,
bidi or line-breaking character reaches the terminal, a newline never starts a row) and padded
by terminal cell width, so wide and zero-width characters keep the columns straight.
"""

from __future__ import annotations

from collections import Counter

from rich.cells import cell_len, set_cell_size

from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import FleetSnapshot
from cmltui.domain.idle import IdleState, idle_words
from cmltui.domain.sanitize import cell_text
from cmltui.domain.times import format_local

WIDTH = 80


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _idle(dto: CMLWorkerDto) -> str:
    """The state's short word from the domain (`?` while unknown, `snooze`, `off`, `-` when not
    running); idle and active say for how long, as the dashboard's cell does. Never a guess."""
    state, minutes = dto.idle_state, dto.idle_minutes
    words = idle_words(state)
    if state not in (IdleState.IDLE, IdleState.ACTIVE) or minutes is None:
        return words.short
    age = f"{minutes / 60:.1f}h" if minutes >= 90 else f"{minutes:.0f}m"
    return f"{words.short} {age}" if state == IdleState.IDLE else age


def _cost(dto: CMLWorkerDto) -> str:
    """Burn now; "?" when a running worker's region has no known price."""
    if dto.hourly_cost is None:
        return "?" if dto.status.value == "running" else "-"
    return f"{dto.hourly_cost:.2f}"


def cell(value: object, width: int, align: str = "<") -> str:
    """`value` made visible, cut (with …) or padded to exactly `width` terminal cells."""
    text = cell_text(str(value), 4 * width + 8)
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if align == ">" else text + pad


def line(text: str, width: int = WIDTH) -> str:
    """A free-text line (errors, totals) made visible and cut to `width` cells."""
    text = cell_text(text, 4 * width)
    return set_cell_size(text, width - 1) + "…" if cell_len(text) > width else text


def render_table(snapshot: FleetSnapshot) -> str:
    header = f"{'NAME':<18} {'STATUS':<8} {'SERVICE':<11} {'CPU':>4} {'MEM':>4} {'DISK':>4} "
    header += f"{'LABS':>5} {'IDLE':<11} {'$/H':>5}"
    lines = [header]
    for dto in snapshot.workers:
        labs = "-" if dto.active_labs_count is None else f"{dto.active_labs_count}/"
        labs += "-" if dto.cml_labs_count is None else str(dto.cml_labs_count)
        cost = _cost(dto)
        lines.append(
            " ".join(
                (
                    cell(dto.name, 18),
                    cell(dto.status.value, 8),
                    cell(dto.service_status.value, 11),
                    cell(_pct(dto.cpu_utilization), 4, ">"),
                    cell(_pct(dto.memory_utilization), 4, ">"),
                    cell(_pct(dto.storage_utilization), 4, ">"),
                    cell(labs, 5, ">"),
                    cell(_idle(dto), 11),
                    cell(cost, 5, ">"),
                )
            )
        )
        for source, error in dto.errors.items():
            lines.append(line(f"  ! {source}: {error}"))
    cost = snapshot.cost()
    counts = Counter(d.idle_state for d in snapshot.workers if d.idle_state is not None)
    states = ", ".join(f"{state.value} {counts[state]}" for state in IdleState if counts[state])
    lines.append(line(f"{cost.workers} workers, {cost.running} running: {states or 'none'}"))
    lines.append(f"collected {format_local(snapshot.collected_at, '%Y-%m-%d %H:%M:%S %Z')}")
    lines.append(
        f"burn ${cost.burn_per_hour:.2f}/h, idle burn ${cost.idle_burn_per_hour:.2f}/h, "
        f"day ${cost.projected_day:,.0f}, month ${cost.projected_month:,.0f}"
    )
    if cost.saved_usd:
        since = (
            f" since {format_local(cost.saved_since, '%Y-%m-%d %H:%M')}" if cost.saved_since else ""
        )
        lines.append(
            f"saved ${cost.saved_usd:,.2f}{since} (auto ${cost.saved_auto_usd:,.2f}, "
            f"manual ${cost.saved_manual_usd:,.2f}, other ${cost.saved_external_usd:,.2f})"
        )
    if cost.left_out():
        lines.append(line(f"totals exclude {cost.left_out()}"))
    lines.extend(line(f"error: {error}", 4 * WIDTH) for error in snapshot.errors)
    return "\n".join(lines) + "\n"
