"""`cmltui snapshot --format table`: a plain table readable at 80 columns.

Names, states and errors come from AWS and CML, so every cell is made visible (no control,
bidi or line-breaking character reaches the terminal, a newline never starts a row) and padded
by terminal cell width, so wide and zero-width characters keep the columns straight.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import FleetSnapshot
from cmltui.domain.sanitize import visible

WIDTH = 80


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _idle(dto: CMLWorkerDto) -> str:
    if dto.is_idle is None:
        return "off" if not dto.is_idle_detection_enabled else "-"
    minutes = dto.idle_minutes or 0.0
    text = f"{minutes / 60:.1f}h" if minutes >= 90 else f"{minutes:.0f}m"
    return ("IDLE " if dto.is_idle else "") + text


def cell(value: object, width: int, align: str = "<") -> str:
    """`value` made visible, cut (with …) or padded to exactly `width` terminal cells."""
    text = visible(str(value), 4 * width + 8)
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if align == ">" else text + pad


def line(text: str, width: int = WIDTH) -> str:
    """A free-text line (errors, totals) made visible and cut to `width` cells."""
    text = visible(text, 4 * width)
    return set_cell_size(text, width - 1) + "…" if cell_len(text) > width else text


def render_table(snapshot: FleetSnapshot) -> str:
    header = f"{'NAME':<18} {'STATUS':<8} {'SERVICE':<11} {'CPU':>4} {'MEM':>4} {'DISK':>4} "
    header += f"{'LABS':>5} {'IDLE':<10} {'$/H':>5}"
    lines = [header]
    for dto in snapshot.workers:
        labs = "-" if dto.active_labs_count is None else f"{dto.active_labs_count}/"
        labs += "-" if dto.cml_labs_count is None else str(dto.cml_labs_count)
        cost = "-" if dto.hourly_cost is None else f"{dto.hourly_cost:.2f}"
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
                    cell(_idle(dto), 10),
                    cell(cost, 5, ">"),
                )
            )
        )
        for source, error in dto.errors.items():
            lines.append(line(f"  ! {source}: {error}"))
    running = sum(1 for d in snapshot.workers if d.status.value == "running")
    burn = sum(d.hourly_cost or 0.0 for d in snapshot.workers)
    lines.append(
        f"{len(snapshot.workers)} workers, {running} running, burn ${burn:.2f}/h, "
        f"collected {snapshot.collected_at.astimezone():%Y-%m-%d %H:%M:%S %Z}"
    )
    lines.extend(line(f"error: {error}", 4 * WIDTH) for error in snapshot.errors)
    return "\n".join(lines) + "\n"
