"""Kinds of odd input from outside (unknown event types, malformed frames), counted, not kept.

A server can send any number of distinct kinds. The first `LOGGED` are logged by name, once
each; after that only a count is kept, and logged when it reaches 100, 1,000, 10,000…
"""

from __future__ import annotations

import logging
from typing import Final

LOGGED: Final = 10


class KindCounter:
    def __init__(self, logger: logging.Logger, what: str, limit: int = LOGGED) -> None:
        self._log = logger
        self._what = what
        self._limit = limit
        self._named: set[str] = set()
        self.count = 0  # every occurrence, of every kind
        self.others = 0  # occurrences of kinds past the first `limit`

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds logged by name (at most `limit`)."""
        return frozenset(self._named)

    def note(self, kind: str, detail: str) -> None:
        """One more of `kind`: logged the first time, or counted once the names are full."""
        self.count += 1
        kind = kind[:80]
        if kind in self._named:
            return
        if len(self._named) < self._limit:
            self._named.add(kind)
            self._log.warning("Cloud Manager %s %r: %s", self._what, kind, detail)
            return
        self.others += 1
        if self.others == 1:
            self._log.warning(
                "Cloud Manager: more than %d kinds of %s; the rest are counted, not named",
                self._limit,
                self._what,
            )
        elif _power_of_ten(self.others):
            self._log.warning("Cloud Manager: %d more %s of other kinds", self.others, self._what)


def _power_of_ten(number: int) -> bool:
    while number >= 10 and number % 10 == 0:
        number //= 10
    return number == 1
