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


def render_table(snapshot: FleetSnapshot) -> str:
    header = f"{'NAME':<18} {'STATUS':<8} {'SERVICE':<11} {'CPU':>4} {'MEM':>4} {'DISK':>4} "
    header += f"{'LABS':>5} {'IDLE':<10} {'$/H':>5}"
    lines = [header]
    for dto in snapshot.workers:
        labs = "-" if dto.active_labs_count is None else f"{dto.active_labs_count}/"
        labs += "-" if dto.cml_labs_count is None else str(dto.cml_labs_count)
        cost = "-" if dto.hourly_cost is None else f"{dto.hourly_cost:.2f}"
        lines.append(
            f"{dto.name[:18]:<18} {dto.status.value[:8]:<8} {dto.service_status.value:<11} "
            f"{_pct(dto.cpu_utilization):>4} {_pct(dto.memory_utilization):>4} "
            f"{_pct(dto.storage_utilization):>4} {labs:>5} {_idle(dto)[:10]:<10} {cost:>5}"
        )
        for source, error in dto.errors.items():
            lines.append(f"  ! {source}: {error}"[:80])
    running = sum(1 for d in snapshot.workers if d.status.value == "running")
    burn = sum(d.hourly_cost or 0.0 for d in snapshot.workers)
    states = [d.idle_state for d in snapshot.workers]
    lines.append(
        f"{len(snapshot.workers)} workers, {running} running: idle {states.count('idle')}, "
        f"busy {states.count('active')}, ? {states.count('unknown')} (not read yet)"
    )
    lines.append(
        f"burn ${burn:.2f}/h, collected {snapshot.collected_at.astimezone():%Y-%m-%d %H:%M:%S %Z}"
    )
    lines.extend(f"error: {error}" for error in snapshot.errors)
    return "\n".join(lines) + "\n"
