"""Fleet cost figures from worker DTOs: burn, idle burn, projections, savings, and the gaps.

One pure function over DTOs serves the JSON fleet block, the header and the cost screen, so
they can never disagree. A running worker with no known price is left out of every total, and
the totals say how many were left out and in which regions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cmltui.api.dto import CMLWorkerDto
from cmltui.api.owner import owner_of
from cmltui.domain.enums import WorkerStatus

HOURS_PER_DAY = 24
HOURS_PER_MONTH = 730  # AWS's own convention (8760 / 12)

GroupBy = Literal["owner", "instance_type", "region"]


@dataclass(frozen=True)
class CostTotals:
    workers: int = 0
    running: int = 0
    stopped: int = 0
    idle: int = 0
    burn_per_hour: float = 0.0
    idle_burn_per_hour: float = 0.0
    saved_usd: float = 0.0
    saved_auto_usd: float = 0.0
    saved_manual_usd: float = 0.0
    saved_external_usd: float = 0.0
    saved_since: datetime | None = None
    basis: tuple[str, ...] = ()
    unpriced_running: int = 0  # running workers left out of burn
    unpriced_stopped: int = 0  # stopped workers whose savings are left out
    unpriced_regions: tuple[str, ...] = ()
    price_sources: dict[str, int] = field(default_factory=dict)

    @property
    def projected_day(self) -> float:
        return self.burn_per_hour * HOURS_PER_DAY

    @property
    def projected_month(self) -> float:
        return self.burn_per_hour * HOURS_PER_MONTH

    @property
    def unpriced(self) -> int:
        return self.unpriced_running + self.unpriced_stopped

    def left_out(self) -> str | None:
        """What the totals leave out, in words; None when nothing is."""
        if not self.unpriced:
            return None
        parts = []
        if self.unpriced_running:
            parts.append(f"{self.unpriced_running} running")
        if self.unpriced_stopped:
            parts.append(f"{self.unpriced_stopped} stopped")
        regions = ", ".join(self.unpriced_regions)
        return f"{' and '.join(parts)} with no known price ({regions})"

    def to_dict(self) -> dict[str, Any]:
        """The `fleet` block of `snapshot --format json`."""
        return {
            "workers": self.workers,
            "running": self.running,
            "stopped": self.stopped,
            "idle": self.idle,
            "burn_per_hour": round(self.burn_per_hour, 4),
            "idle_burn_per_hour": round(self.idle_burn_per_hour, 4),
            "projected_day": round(self.projected_day, 2),
            "projected_month": round(self.projected_month, 2),
            "hours_per_month": HOURS_PER_MONTH,
            "savings": {
                "saved_usd": round(self.saved_usd, 2),
                "auto_usd": round(self.saved_auto_usd, 2),
                "manual_usd": round(self.saved_manual_usd, 2),
                "external_usd": round(self.saved_external_usd, 2),
                "since": self.saved_since.isoformat() if self.saved_since else None,
                "basis": list(self.basis),
            },
            "price_sources": dict(sorted(self.price_sources.items())),
            "unpriced": {
                "running": self.unpriced_running,
                "stopped": self.unpriced_stopped,
                "regions": list(self.unpriced_regions),
                "note": f"totals exclude {self.left_out()}" if self.unpriced else None,
            },
        }


def cost_totals(workers: Iterable[CMLWorkerDto]) -> CostTotals:
    """Totals over priced workers only; the unpriced are counted apart, never guessed."""
    counts = {"workers": 0, "running": 0, "stopped": 0, "idle": 0}
    burn = idle_burn = 0.0
    saved = {"all": 0.0, "auto": 0.0, "manual": 0.0, "external": 0.0}
    since: datetime | None = None
    basis: dict[str, None] = {}
    unpriced_running = unpriced_stopped = 0
    regions: set[str] = set()
    sources: dict[str, int] = {}
    for dto in workers:
        counts["workers"] += 1
        running = dto.status is WorkerStatus.RUNNING
        stopped = dto.status in (WorkerStatus.STOPPED, WorkerStatus.STOPPING)
        idle = running and dto.is_idle is True
        counts["running"] += running
        counts["stopped"] += stopped
        counts["idle"] += idle
        if dto.price_source is not None:
            sources[dto.price_source] = sources.get(dto.price_source, 0) + 1
        if running:
            if dto.hourly_cost is None:
                unpriced_running += 1
                regions.add(dto.aws_region)
            else:
                burn += dto.hourly_cost
                idle_burn += dto.hourly_cost if idle else 0.0
        s = dto.savings
        if s.stopped_hours > 0 and s.saved_usd is None:
            unpriced_stopped += 1
            regions.add(dto.aws_region)
            continue
        if s.saved_usd:
            saved["all"] += s.saved_usd
            saved["auto"] += s.auto_usd or 0.0
            saved["manual"] += s.manual_usd or 0.0
            saved["external"] += s.external_usd or 0.0
            if s.since is not None and (since is None or s.since < since):
                since = s.since
            basis.update(dict.fromkeys(s.basis))
    return CostTotals(
        **counts,
        burn_per_hour=burn,
        idle_burn_per_hour=idle_burn,
        saved_usd=saved["all"],
        saved_auto_usd=saved["auto"],
        saved_manual_usd=saved["manual"],
        saved_external_usd=saved["external"],
        saved_since=since,
        basis=tuple(basis),
        unpriced_running=unpriced_running,
        unpriced_stopped=unpriced_stopped,
        unpriced_regions=tuple(sorted(regions)),
        price_sources=sources,
    )


_KEYS: dict[GroupBy, Callable[[CMLWorkerDto], str]] = {
    "owner": owner_of,
    "instance_type": lambda dto: dto.instance_type or "?",
    "region": lambda dto: dto.aws_region,
}


def cost_breakdown(workers: Iterable[CMLWorkerDto], by: GroupBy) -> list[tuple[str, CostTotals]]:
    """Totals per owner, instance type or region; the biggest burn first, then by name."""
    groups: dict[str, list[CMLWorkerDto]] = {}
    key = _KEYS[by]
    for dto in workers:
        groups.setdefault(key(dto), []).append(dto)
    rows = [(name, cost_totals(members)) for name, members in groups.items()]
    rows.sort(key=lambda row: (-row[1].burn_per_hour, -row[1].saved_usd, row[0].lower()))
    return rows
