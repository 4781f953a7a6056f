"""Formatting shared by the widgets: local times, ages, levels, gauges and sparklines.

Pure functions, so every widget words things the same way and tests can check them directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from cmltui.api.dto import CMLWorkerDto
from cmltui.config import ThresholdsConfig
from cmltui.domain.times import UNKNOWN_TIME, format_local, in_local_zone

SPARK_BLOCKS = " ▁▂▃▄▅▆▇█"
GAUGE_FULL = "█"
GAUGE_EMPTY = "░"
NONE = "—"


class Level(StrEnum):
    """How loaded a resource is; `cue` is the non-colour signal, `style` the colour."""

    OK = "ok"
    CAREFUL = "careful"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def cue(self) -> str:
        return {"ok": " ", "careful": "·", "warning": "!", "critical": "!!", "unknown": "?"}[
            self.value
        ]

    @property
    def style(self) -> str:
        return {
            "ok": "green",
            "careful": "yellow",
            "warning": "dark_orange",
            "critical": "bold #ff6b6b",
            "unknown": "dim",
        }[self.value]


def level(value: float | None, thresholds: ThresholdsConfig) -> Level:
    if value is None:
        return Level.UNKNOWN
    if value >= thresholds.critical:
        return Level.CRITICAL
    if value >= thresholds.warning:
        return Level.WARNING
    if value >= thresholds.careful:
        return Level.CAREFUL
    return Level.OK


def percent(value: float | None) -> str:
    return NONE if value is None else f"{value:.0f}%"


def gauge_bar(value: float | None, width: int) -> str:
    """A bar of `width` cells filled in proportion to a percentage."""
    if width <= 0:
        return ""
    if value is None:
        return GAUGE_EMPTY * width
    filled = round(max(0.0, min(100.0, value)) / 100.0 * width)
    return GAUGE_FULL * filled + GAUGE_EMPTY * (width - filled)


def sparkline(values: Sequence[float | None], width: int) -> str:
    """The last `width` points on an absolute 0-100 scale; a gap shows as a blank cell.

    Absolute scale on purpose: a load drifting between 30 and 31 % must look flat.
    """
    if width <= 0:
        return ""
    tail = list(values)[-width:]
    cells = []
    top = len(SPARK_BLOCKS) - 1
    for value in tail:
        if value is None:
            cells.append(" ")
        else:
            index = max(1, round(max(0.0, min(100.0, value)) / 100.0 * top))
            cells.append(SPARK_BLOCKS[index])
    return "".join(cells).rjust(width)


def local_time(
    value: datetime | None, *, seconds: bool = False, now: datetime | None = None
) -> str:
    """A time in the local zone (TZ); the date is added when it is not today.

    A time the local zone cannot represent reads `?` (see `cmltui.domain.times`), never an error.
    """
    if value is None:
        return NONE
    local = in_local_zone(value)
    if local is None:
        return UNKNOWN_TIME
    today = in_local_zone(now) if now is not None else None
    dated = now is not None and (today is None or today.date() != local.date())
    clock = "%H:%M:%S" if seconds else "%H:%M"
    return format_local(local, f"%b %d {clock}" if dated else clock)


def local_date(value: datetime | None) -> str:
    """A day in the local zone with its year (`2027-02-25`): for expiries, months ahead."""
    return NONE if value is None else format_local(value, "%Y-%m-%d")


def shown_time(
    dto: CMLWorkerDto,
    name: str,
    value: object,
    *,
    seconds: bool = False,
    now: datetime | None = None,
) -> str | None:
    """A worker's time as shown: local time, `?` when what came in for the field could not be
    read (`unknown_fields`), None when there is none. `value` may be an event's newer value."""
    if isinstance(value, datetime):
        return local_time(value, seconds=seconds, now=now)
    return UNKNOWN_TIME if name in dto.unknown_fields else None


REGISTERING_WORD = "registering…"


def licence_word(dto: CMLWorkerDto) -> str | None:
    """The licence status (`registering…` while a registration is under way), `?` when an
    expiry CML sent could not be read, None when not read."""
    if dto.license_operation is not None:
        return REGISTERING_WORD
    if dto.license_status is not None:
        return dto.license_status.value
    return UNKNOWN_TIME if "license_status" in dto.unknown_fields else None


_LICENCE_STYLES = {
    "registered": "green",
    "evaluation": "yellow",
    REGISTERING_WORD: "cyan",
    UNKNOWN_TIME: "dim",
}


def licence_style(word: str | None) -> str:
    """The colour of a licence word (`licence_word`); red for expired, invalid, unregistered."""
    return _LICENCE_STYLES.get(word or "", "#ff6b6b")


def duration(seconds: float | None) -> str:
    """A compact age: 45s, 12m, 3h05m, 2d04h."""
    if seconds is None:
        return NONE
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def coarse_age(seconds: float) -> str:
    """One unit only, for narrow cells: 40s, 4m, 2h, 3d."""
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


GIB = 1024**3


def gib(value: float | None) -> str:
    """A byte count as people read it: `192 GiB`, `1.5 GiB`, `512 MiB` (never 10 digits)."""
    if value is None:
        return NONE
    if value >= 1024 * GIB:
        return f"{value / (1024 * GIB):.1f} TiB"
    if value >= 100 * GIB:
        return f"{value / GIB:.0f} GiB"
    if value >= GIB:
        return f"{value / GIB:.1f} GiB"
    return f"{value / 1024**2:.0f} MiB"


def home_relative(path: Path | str, home: Path | None = None) -> str:
    """A path under the home directory as `~/…`, so the whole of it fits where it is shown."""
    full = Path(path)
    try:
        rest = full.relative_to(home or Path.home())
    except (ValueError, RuntimeError):  # not under it, or no home directory known
        return str(full)
    return "~" if str(rest) == "." else f"~/{rest}"


def money(value: float | None) -> str:
    return NONE if value is None else f"${value:,.2f}"


def money_short(value: float | None) -> str:
    """Whole dollars, then thousands and millions: $761, $23.1k, $1.2M."""
    if value is None:
        return NONE
    if value >= 999_950:
        return f"${value / 1_000_000:.1f}M"
    if value >= 9_999.5:
        return f"${value / 1000:.1f}k"
    return f"${value:,.0f}"


UNPRICED = "?"
"""Shown for a running worker whose region has no known price."""
