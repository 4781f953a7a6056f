"""Per-worker facts read from Cloud Manager besides its stream: on a cadence, and at once when
something suggests they changed.

One `FactReader` per fact (the idle verdict, the lab list). Each picks the workers it applies to
(`eligible`), reads those whose last read is older than its interval or that were marked due
(`due`: a new worker, a toggle, a resume, an activity or labs event), a few at a time
(`concurrency`), and never lets one slow or failing worker hold up the rest: every read has the
session's timeout, and a failure is logged once per kind and retried on the next cadence or mark.
When the marked ones have all been read, `on_caught_up` is called (the backend publishes then,
rather than at its next interval).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from cmltui.backends.ccm.api import CcmError
from cmltui.backends.ccm.kinds import KindCounter

log = logging.getLogger(__name__)

BATCH_PER_SLOT = 8
"""Reads picked per round, per concurrent slot: a due mark never waits for a whole fleet."""


class FactReader:
    def __init__(
        self,
        name: str,
        *,
        interval: float,
        eligible: Callable[[], Iterable[str]],
        fetch: Callable[[str], Awaitable[None]],
        concurrency: int = 4,
        on_caught_up: Callable[[], None] | None = None,
        idle_wait: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.interval = interval
        self._eligible = eligible
        self._fetch = fetch
        self._on_caught_up = on_caught_up
        self._slots = asyncio.Semaphore(concurrency)
        self._batch = concurrency * BATCH_PER_SLOT
        self._idle_wait = idle_wait
        self._monotonic = monotonic
        self._last: dict[str, float] = {}
        self._due: set[str] = set()
        self._wake = asyncio.Event()
        self.reads = 0
        self.failures = KindCounter(log, f"{name} reads failed")

    def due(self, worker_id: str) -> None:
        """Read this worker at the next round (if it is eligible then)."""
        self._due.add(worker_id)
        self._wake.set()

    def forget(self, worker_id: str) -> None:
        self._last.pop(worker_id, None)
        self._due.discard(worker_id)

    async def run(self) -> None:
        """Forever: read what is due, else wait for a mark or the next second."""
        while True:
            had_due = bool(self._due)
            batch = self._pick()
            if batch:
                await self.read(batch)
                if had_due and not self._due and self._on_caught_up is not None:
                    self._on_caught_up()  # what was asked for at once is read: show it
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._idle_wait):
                    await self._wake.wait()

    def _pick(self) -> list[str]:
        now = self._monotonic()
        eligible = set(self._eligible())
        self._due &= eligible  # a mark on a worker that is not eligible now lapses
        for gone in [w for w in self._last if w not in eligible]:
            del self._last[gone]  # bounded by the fleet: stopped workers are read afresh
        picked = list(self._due)[: self._batch]
        for worker_id in eligible:
            if len(picked) >= self._batch:
                break
            last = self._last.get(worker_id)
            if (last is None or now - last >= self.interval) and worker_id not in self._due:
                picked.append(worker_id)
        return picked

    async def read(self, worker_ids: Iterable[str]) -> None:
        """Read these workers now, a few at a time."""
        await asyncio.gather(*(self._read_one(worker_id) for worker_id in worker_ids))

    async def _read_one(self, worker_id: str) -> None:
        self._due.discard(worker_id)
        self._last[worker_id] = self._monotonic()
        async with self._slots:
            try:
                await self._fetch(worker_id)
                self.reads += 1
            except CcmError as exc:
                self.failures.note(type(exc).__name__, str(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one worker's odd answer never stops the reader
                self.failures.note(type(exc).__name__, f"{self.name} of {worker_id[:64]}")
