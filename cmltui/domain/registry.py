"""The worker registry: one `CMLWorker` per worker key, shared by all core jobs.

The key is the instance id qualified by its account (`domain.accounts.worker_key`): instance
ids are unique only within an account.
"""

from __future__ import annotations

from collections.abc import Iterator

from cmltui.domain.accounts import worker_key
from cmltui.domain.worker import CMLWorker

Scope = tuple[str | None, str]
"""(account, region): what one EC2 listing covers."""


class WorkerRegistry:
    """Keyed by worker key. Plain dict semantics; the asyncio loop is the only writer."""

    def __init__(self) -> None:
        self._workers: dict[str, CMLWorker] = {}

    def get(self, key: str) -> CMLWorker | None:
        return self._workers.get(key)

    def require(self, key: str) -> CMLWorker:
        worker = self._workers.get(key)
        if worker is None:
            raise KeyError(f"unknown worker {key}")
        return worker

    def get_or_create(self, instance_id: str, region: str, account: str | None = None) -> CMLWorker:
        key = worker_key(account, instance_id)
        worker = self._workers.get(key)
        if worker is None:
            worker = CMLWorker(
                instance_id=instance_id, region=region, name=instance_id, account=account
            )
            self._workers[key] = worker
        return worker

    def retain_only(self, keys: set[str], scopes: set[Scope]) -> None:
        """Forget workers of `scopes` that EC2 no longer lists; other scopes are untouched."""
        for key in list(self._workers):
            worker = self._workers[key]
            if (worker.account, worker.region) in scopes and key not in keys:
                del self._workers[key]

    def __iter__(self) -> Iterator[CMLWorker]:
        return iter(list(self._workers.values()))

    def __len__(self) -> int:
        return len(self._workers)

    def __contains__(self, key: object) -> bool:
        return key in self._workers
