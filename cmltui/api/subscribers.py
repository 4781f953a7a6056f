"""A channel's subscribers: the one way a backend hands each message to everyone who asked.

Both backends publish snapshots, activity events, source status and warnings through one of
these. A channel may keep its last few messages, so that a subscriber that joins late (the
dashboard mounting after the first warning, a status subscriber) is first given those.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Subscribers(Generic[T]):
    """Callbacks for one kind of message; `keep` > 0 replays the last `keep` to a newcomer.

    One subscriber's failure is logged and does not stop the others or the publisher (a
    collector cycle, the Cloud Manager stream).
    """

    def __init__(self, keep: int = 0) -> None:
        self._callbacks: list[Callable[[T], None]] = []
        self._kept: deque[T] = deque(maxlen=keep)

    def add(self, callback: Callable[[T], None]) -> None:
        """Subscribe; the kept messages, oldest first, are given to `callback` at once."""
        self._callbacks.append(callback)
        for message in list(self._kept):
            self._deliver(callback, message)

    def remove(self, callback: Callable[[T], None]) -> None:
        """Unsubscribe (one that is not subscribed is ignored)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def publish(self, message: T) -> None:
        if self._kept.maxlen:
            self._kept.append(message)
        for callback in list(self._callbacks):
            self._deliver(callback, message)

    @property
    def kept(self) -> list[T]:
        """The kept messages, oldest first."""
        return list(self._kept)

    @property
    def latest(self) -> T | None:
        return self._kept[-1] if self._kept else None

    @staticmethod
    def _deliver(callback: Callable[[T], None], message: T) -> None:
        try:
            callback(message)
        except Exception:
            log.exception("a subscriber failed on %s", type(message).__name__)
