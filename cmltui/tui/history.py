"""A short utilization history for every worker, fed by snapshots only.

Kept for all workers, not just the selected one, so that selecting a worker shows its recent
past at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cmltui.api.dto import CMLWorkerDto

METRICS: tuple[str, ...] = ("cpu", "memory", "disk")


@dataclass
class WorkerSeries:
    """The last few points of each metric; None marks a cycle without data."""

    points: int
    cpu: deque[float | None] = field(init=False)
    memory: deque[float | None] = field(init=False)
    disk: deque[float | None] = field(init=False)
    last_collected_at: datetime | None = None

    def __post_init__(self) -> None:
        self.cpu = deque(maxlen=self.points)
        self.memory = deque(maxlen=self.points)
        self.disk = deque(maxlen=self.points)

    def series(self, metric: str) -> tuple[float | None, ...]:
        return tuple(getattr(self, metric))


class FleetHistory:
    """Per-worker series; one point per snapshot, never more than one per collection."""

    def __init__(self, points: int) -> None:
        self._points = points
        self._workers: dict[str, WorkerSeries] = {}
        self._last_collected_at: datetime | None = None

    def record(self, workers: Iterable[CMLWorkerDto], collected_at: datetime) -> None:
        """One point per worker for a collection newer than the last one recorded.

        A snapshot carries one collection time for the whole fleet, so one comparison decides
        for every worker (a repeated or older collection adds nothing).
        """
        if self._last_collected_at is not None and collected_at <= self._last_collected_at:
            return
        self._last_collected_at = collected_at
        known = self._workers
        seen: set[str] = set()
        for dto in workers:
            worker_id = dto.id
            seen.add(worker_id)
            series = known.get(worker_id)
            if series is None:
                series = known[worker_id] = WorkerSeries(self._points)
            series.last_collected_at = collected_at
            series.cpu.append(dto.cpu_utilization)
            series.memory.append(dto.memory_utilization)
            series.disk.append(dto.disk_utilization)
        if len(seen) != len(known):
            for gone in [w for w in known if w not in seen]:
                del known[gone]

    def series(self, worker_id: str, metric: str) -> tuple[float | None, ...]:
        worker = self._workers.get(worker_id)
        return worker.series(metric) if worker else ()

    def __contains__(self, worker_id: object) -> bool:
        return worker_id in self._workers
