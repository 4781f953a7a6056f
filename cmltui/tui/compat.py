"""A stand-in for the two `Backend` methods the backends do not have yet. REMOVE once they do.

The `Backend` protocol gained `subscribe_warnings` and `audit_entries`; the dashboard is written
against the protocol only. Until both real backends implement them, `complete()` wraps one that
lacks them: warnings are read from its old `warnings` list after each snapshot, event and action
(each once), and audit entries from the audit log, on a thread. This is the only place that
knows the old shape; a backend with both methods (the tests' scripted one, and the real ones
once merged) is used as it is.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from cmltui.api.backend import AuditEntry, Backend, WarningCallback
from cmltui.audit import read_entries

T = TypeVar("T")
_ACTIONS = ("toggle_idle_detection", "pause", "resume", "pause_many")


def complete(backend: Any, audit_path: Path) -> Backend:
    """`backend`, or a wrapper that adds what it lacks of the protocol."""
    if hasattr(backend, "subscribe_warnings") and hasattr(backend, "audit_entries"):
        return cast(Backend, backend)
    return cast(Backend, _Completed(backend, audit_path))


class _Completed:
    """Everything of the wrapped backend, plus warnings as a subscription and audit entries."""

    def __init__(self, inner: Any, audit_path: Path) -> None:
        self._inner = inner
        self._audit_path = audit_path
        self._warning_callbacks: list[WarningCallback] = []
        self._shown = 0
        self._lock = threading.Lock()
        inner.subscribe_snapshots(lambda _snapshot: self._flush())
        inner.subscribe_activity(lambda _event: self._flush())

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name in _ACTIONS:
            return self._then_flush(attribute)
        return attribute

    def subscribe_warnings(self, callback: WarningCallback) -> None:
        with self._lock:
            self._warning_callbacks.append(callback)
            earlier = list(getattr(self._inner, "warnings", ())[: self._shown])
        for message in earlier:  # a late subscriber first gets the ones already raised
            callback(message)
        self._flush()

    async def audit_entries(self, worker_id: str, limit: int = 50) -> list[AuditEntry]:
        return await asyncio.to_thread(read_entries, self._audit_path, worker_id, limit)

    def _then_flush(self, action: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def run(*args: Any, **kwargs: Any) -> T:
            try:
                return await action(*args, **kwargs)
            finally:
                self._flush()

        return run

    def _flush(self) -> None:
        """Hand each subscriber the warnings raised since the last look."""
        with self._lock:
            warnings = list(getattr(self._inner, "warnings", ()))
            new, self._shown = warnings[self._shown :], len(warnings)
            callbacks = list(self._warning_callbacks)
        for message in new:
            for callback in callbacks:
                callback(str(message))
