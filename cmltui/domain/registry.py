"""The worker registry: one `CMLWorker` per instance id, shared by all core jobs."""

from __future__ import annotations

from collections.abc import Iterator

from cmltui.domain.worker import CMLWorker


class WorkerRegistry:
    """Keyed by EC2 instance id. Plain dict semantics; the asyncio loop is the only writer."""

    def __init__(self) -> None:
        self._workers: dict[str, CMLWorker] = {}

    def get(self, instance_id: str) -> CMLWorker | None:
        return self._workers.get(instance_id)

    def require(self, instance_id: str) -> CMLWorker:
        worker = self._workers.get(instance_id)
        if worker is None:
            raise KeyError(f"unknown worker {instance_id}")
        return worker

    def get_or_create(self, instance_id: str, region: str) -> CMLWorker:
        worker = self._workers.get(instance_id)
        if worker is None:
            worker = CMLWorker(instance_id=instance_id, region=region, name=instance_id)
            self._workers[instance_id] = worker
        return worker

    def retain_only(self, instance_ids: set[str], regions: set[str]) -> None:
        """Forget workers of `regions` that EC2 no longer lists; other regions are untouched."""
        for instance_id in list(self._workers):
            worker = self._workers[instance_id]
            if worker.region in regions and instance_id not in instance_ids:
                del self._workers[instance_id]

    def __iter__(self) -> Iterator[CMLWorker]:
        return iter(list(self._workers.values()))

    def __len__(self) -> int:
        return len(self._workers)

    def __contains__(self, instance_id: object) -> bool:
        return instance_id in self._workers
