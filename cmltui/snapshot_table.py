"""`cmltui snapshot --format table`: a plain table readable at 80 columns."""

from __future__ import annotations

from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import FleetSnapshot


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _idle(dto: CMLWorkerDto) -> str:
    """`?` while unknown (telemetry not read), `off`, or the idle time: never a guess."""
    if dto.idle_state is None:
        return "-"
    if dto.idle_state in ("off", "unknown") or dto.idle_minutes is None:
        return {"off": "off"}.get(dto.idle_state, "?")
    minutes = dto.idle_minutes
    text = f"{minutes / 60:.1f}h" if minutes >= 90 else f"{minutes:.0f}m"
    return ("IDLE " if dto.is_idle else "") + text


def _cost(dto: CMLWorkerDto) -> str:
    """Burn now; "?" when a running worker's region has no known price."""
    if dto.hourly_cost is None:
        return "?" if dto.status.value == "running" else "-"
    return f"{dto.hourly_cost:.2f}"


def render_table(snapshot: FleetSnapshot) -> str:
    header = f"{'NAME':<18} {'STATUS':<8} {'SERVICE':<11} {'CPU':>4} {'MEM':>4} {'DISK':>4} "
    header += f"{'LABS':>5} {'IDLE':<10} {'$/H':>5}"
    lines = [header]
    for dto in snapshot.workers:
        labs = "-" if dto.active_labs_count is None else f"{dto.active_labs_count}/"
        labs += "-" if dto.cml_labs_count is None else str(dto.cml_labs_count)
        cost = _cost(dto)
        lines.append(
            f"{dto.name[:18]:<18} {dto.status.value[:8]:<8} {dto.service_status.value:<11} "
            f"{_pct(dto.cpu_utilization):>4} {_pct(dto.memory_utilization):>4} "
            f"{_pct(dto.storage_utilization):>4} {labs:>5} {_idle(dto)[:10]:<10} {cost:>5}"
        )
        for source, error in dto.errors.items():
            lines.append(f"  ! {source}: {error}"[:80])
    cost = snapshot.cost()
    states = [d.idle_state for d in snapshot.workers]
    lines.append(
        f"{cost.workers} workers, {cost.running} running: idle {states.count('idle')}, "
        f"busy {states.count('active')}, ? {states.count('unknown')} (not read yet)"
    )
    lines.append(f"collected {snapshot.collected_at.astimezone():%Y-%m-%d %H:%M:%S %Z}")
    lines.append(
        f"burn ${cost.burn_per_hour:.2f}/h, idle burn ${cost.idle_burn_per_hour:.2f}/h, "
        f"day ${cost.projected_day:,.0f}, month ${cost.projected_month:,.0f}"
    )
    if cost.saved_usd:
        since = f" since {cost.saved_since:%Y-%m-%d %H:%M}" if cost.saved_since else ""
        lines.append(
            f"saved ${cost.saved_usd:,.2f}{since} (auto ${cost.saved_auto_usd:,.2f}, "
            f"manual ${cost.saved_manual_usd:,.2f}, other ${cost.saved_external_usd:,.2f})"
        )
    if cost.left_out():
        lines.append(f"totals exclude {cost.left_out()}")
    lines.extend(f"error: {error}" for error in snapshot.errors)
    return "\n".join(lines) + "\n"
