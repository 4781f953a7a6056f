"""How the process's cyclic garbage collector runs: rarely, and never over what lives for ever.

cmltui allocates in bursts (start-up imports and models; each collector cycle's replies,
models and DTOs) and keeps almost everything it builds. With Python's default gen-0 threshold
of 700, start-up alone runs a full collection over every module and class (about 30 ms before
the first frame), and a 1000-worker cycle several. A larger threshold keeps that to about
one; freezing moves what is already built out of every later scan.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 100_000
OLDER_THRESHOLD = 20


def collect_rarely() -> None:
    """Raise the thresholds (never lower ones a host application chose)."""
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(
        max(gen0, GEN0_THRESHOLD), max(gen1, OLDER_THRESHOLD), max(gen2, OLDER_THRESHOLD)
    )


def freeze_long_lived() -> None:
    """What exists now (clients, caches, parsed models) lives for the whole run: leave it out
    of every later collection, or each one pays to rescan it."""
    gc.freeze()
