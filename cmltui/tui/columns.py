"""The worker table's columns: the one registry of what each column is called, says, sorts by
and how long it stays as the screen narrows.

Each `Column` gives its header (also the sort's name in the title and the toast), its sort key
and direction, and its priority; `COLUMNS` is in display order, which is also the order `s`
steps through. Cells are pure functions of a DTO (plus the row's state as the view-model shows
it), so the table widget only lays out and paints, and tests can check the wording directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cmltui.api.dto import CMLWorkerDto
from cmltui.config import ThresholdsConfig
from cmltui.domain.enums import ServiceStatus, WorkerStatus
from cmltui.domain.idle import IdleState, idle_words
from cmltui.tui.fmt import (
    NONE,
    UNPRICED,
    Level,
    coarse_age,
    duration,
    level,
    licence_style,
    licence_word,
    money,
)

_SERVICE_WORDS = {
    ServiceStatus.AVAILABLE: "ok",
    ServiceStatus.DEGRADED: "degr",
    ServiceStatus.ERROR: "error",
    ServiceStatus.STARTING: "boot",
    ServiceStatus.UNAVAILABLE: NONE,
}
_TABLE_CUE = {Level.WARNING: "!", Level.CRITICAL: "!!"}


@dataclass(frozen=True)
class Cell:
    text: str
    style: str = ""


SortKey = Callable[[CMLWorkerDto], Any]
_STATUS_ORDER = {s: i for i, s in enumerate(WorkerStatus)}


def _num(value: float | int | None) -> float:
    return -1.0 if value is None else float(value)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    """The header, and the sort's name wherever the sort is named."""
    width: int
    priority: int  # lower stays longer when the screen is narrow
    sort: SortKey
    descending_first: bool = False  # numbers: the biggest first
    align: str = "left"
    flex: bool = False


COLUMNS: tuple[Column, ...] = (
    # Display order, which `s` follows. Priorities: IDLE and $/H (what this tool is for)
    # outlast the CML word and the gauges.
    Column("name", "NAME", 12, 0, lambda d: d.name.lower(), flex=True),
    Column("status", "STATUS", 9, 1, lambda d: (_STATUS_ORDER[d.status], d.name.lower())),
    Column("service", "CML", 12, 6, lambda d: d.service_status.value),
    Column("cpu", "CPU%", 5, 4, lambda d: _num(d.cpu_utilization), True, "right"),
    Column("memory", "MEM%", 5, 5, lambda d: _num(d.memory_utilization), True, "right"),
    Column("idle", "IDLE", 8, 2, lambda d: _num(d.idle_minutes), True, "right"),
    Column("cost", "$/H", 6, 3, lambda d: _num(d.hourly_cost), True, "right"),
    Column("disk", "DSK%", 5, 7, lambda d: _num(d.disk_utilization), True, "right"),
    Column("labs", "LABS", 5, 8, lambda d: _num(d.active_labs_count), True, "right"),
    Column(
        "license", "LICENSE", 12, 9, lambda d: d.license_status.value if d.license_status else ""
    ),
    Column("type", "TYPE", 12, 10, lambda d: d.instance_type or ""),
    Column("region", "REGION", 12, 11, lambda d: d.aws_region),
    Column("nodes", "NODES", 5, 12, lambda d: _num(d.running_nodes), True, "right"),
    Column("id", "INSTANCE ID", 19, 13, lambda d: d.id),
)
ACCOUNT = Column("account", "ACCOUNT", 11, 4, lambda d: d.aws_account or "")
"""Shown right of the name when the fleet spans more than one account; it outlasts the gauges."""
ALL_COLUMNS: tuple[Column, ...] = (COLUMNS[0], ACCOUNT, *COLUMNS[1:])
BY_KEY: Mapping[str, Column] = {column.key: column for column in ALL_COLUMNS}


def columns_for(accounts: int) -> tuple[Column, ...]:
    """The columns of a fleet of that many named accounts: ACCOUNT only with two or more."""
    return ALL_COLUMNS if accounts > 1 else COLUMNS


NAME_MAX = 26
SEPARATOR = 1


def fit_columns(width: int, columns: Sequence[Column] = COLUMNS) -> list[tuple[Column, int]]:
    """The columns that fit in `width` cells, in display order, with their widths.

    The least important columns go first; the name column takes what is left (up to a cap).
    """
    chosen = sorted(columns, key=lambda c: c.priority)
    while chosen:
        fixed = sum(c.width for c in chosen) + SEPARATOR * (len(chosen) - 1)
        if fixed <= width or len(chosen) == 1:
            break
        chosen.pop()
    fixed = sum(c.width for c in chosen) + SEPARATOR * (len(chosen) - 1)
    spare = max(0, width - fixed)
    order = {c.key: i for i, c in enumerate(columns)}
    result = []
    for column in sorted(chosen, key=lambda c: order[c.key]):
        extra = min(spare, NAME_MAX - column.width) if column.flex else 0
        result.append((column, column.width + max(0, extra)))
    return result


class RowState(NamedTuple):
    """A row's state as the view-model shows it (an event the snapshot has not listed yet)."""

    status_word: str  # the listed state, or an in-flight marker ("stopping…")
    idle_state: IdleState | None


def cells(
    dto: CMLWorkerDto, thresholds: ThresholdsConfig, shown: RowState | None = None
) -> dict[str, Cell]:
    """Every column's cell for one worker; `shown` defaults to the snapshot's own state."""
    status_word, idle_state = shown or RowState(dto.status.value, dto.idle_state)
    in_flight = status_word != dto.status.value
    return {
        "name": Cell(dto.name, "bold" if dto.status is WorkerStatus.RUNNING else ""),
        "account": Cell(dto.aws_account or NONE),
        "status": _status_cell(dto, status_word, in_flight),
        "service": _service_cell(dto),
        "cpu": _metric_cell(dto.cpu_utilization, thresholds),
        "memory": _metric_cell(dto.memory_utilization, thresholds),
        "disk": _metric_cell(dto.disk_utilization, thresholds),
        "idle": _idle_cell(dto, idle_state),
        "cost": _cost_cell(dto),
        "labs": Cell(_labs_text(dto)),
        "license": _license_cell(dto),
        "type": Cell(dto.instance_type or NONE),
        "region": Cell(dto.aws_region),
        "nodes": Cell(NONE if dto.running_nodes is None else str(dto.running_nodes)),
        "id": Cell(dto.id, "dim"),
    }


def _cost_cell(dto: CMLWorkerDto) -> Cell:
    """Burn now; "?" for a running worker whose region has no known price (never a guess)."""
    if dto.status is WorkerStatus.RUNNING and dto.hourly_cost is None:
        return Cell(UNPRICED, "bold #ff6b6b")
    return Cell(money(dto.hourly_cost) if dto.hourly_cost else NONE)


def _status_cell(dto: CMLWorkerDto, word: str, in_flight: bool) -> Cell:
    """The state, or the in-flight marker; `running?` when its account's region cannot be
    listed now (the last known state, stale: the detail pane says since when)."""
    if dto.ec2_stale_seconds is not None and not in_flight:
        return Cell(f"{word}?", "dim italic")
    return Cell(word, _status_style(dto.status, in_flight))


def _status_style(status: WorkerStatus, in_flight: bool) -> str:
    if in_flight:
        return "bold italic yellow"
    return {
        WorkerStatus.RUNNING: "green",
        WorkerStatus.STOPPED: "dim",
        WorkerStatus.PENDING: "yellow",
        WorkerStatus.STOPPING: "yellow",
        WorkerStatus.SHUTTING_DOWN: "#ff6b6b",
        WorkerStatus.TERMINATED: "dim strike",
        WorkerStatus.UNKNOWN: "magenta",
    }[status]


def _service_cell(dto: CMLWorkerDto) -> Cell:
    word = _SERVICE_WORDS[dto.service_status]
    style = {
        ServiceStatus.AVAILABLE: "green",
        ServiceStatus.DEGRADED: "yellow",
        ServiceStatus.ERROR: "bold #ff6b6b",
        ServiceStatus.STARTING: "cyan",
        ServiceStatus.UNAVAILABLE: "dim",
    }[dto.service_status]
    if dto.cml_stale_seconds is not None:
        # The stale marker: the age of the last good CML data, in words as well as colour.
        return Cell(f"{word} {coarse_age(dto.cml_stale_seconds)} old", style)
    return Cell(word, style)


def _metric_cell(value: float | None, thresholds: ThresholdsConfig) -> Cell:
    if value is None:
        return Cell(NONE, "dim")
    lvl = level(value, thresholds)
    return Cell(f"{value:.0f}{_TABLE_CUE.get(lvl, '')}", lvl.style)


_IDLE_STYLE = {
    IdleState.IDLE: "bold yellow",
    IdleState.ACTIVE: "",
    IdleState.UNKNOWN: "dim",
    IdleState.OFF: "dim",
    IdleState.SNOOZE: "cyan",
}


def idle_label(dto: CMLWorkerDto, state: IdleState | None) -> str:
    """The state's short word (`domain.idle`), with the age when idle: `IDLE 3h`, `?`, `off`."""
    if state is None:
        return NONE
    if state is IdleState.IDLE and dto.idle_minutes is not None:
        return f"{idle_words(state).short} {coarse_age(dto.idle_minutes * 60)}"
    return idle_words(state).short


def _idle_cell(dto: CMLWorkerDto, state: IdleState | None) -> Cell:
    """The state in its word (`?` while unknown, never a guess); an active worker shows how
    long it has been quiet instead, in whole minutes: a cell ticking every refresh would
    repaint every running row (over SSH that is most of a refresh's bytes)."""
    if state is None:
        return Cell(NONE, "dim")
    minutes = dto.idle_minutes
    if state is IdleState.ACTIVE and minutes is not None:
        return Cell("<1m" if minutes < 1 else duration(minutes * 60))
    return Cell(idle_label(dto, state), _IDLE_STYLE[state])


def _labs_text(dto: CMLWorkerDto) -> str:
    if dto.cml_labs_count is None:
        return NONE
    return f"{dto.active_labs_count or 0}/{dto.cml_labs_count}"


def _license_cell(dto: CMLWorkerDto) -> Cell:
    word = licence_word(dto)
    if word is None:
        return Cell(NONE, "dim")
    return Cell(word, licence_style(word))


# --- sorting ----------------------------------------------------------------------------------


def sort_ids(workers: Iterable[CMLWorkerDto], key: str, *, reverse: bool = False) -> list[str]:
    """Worker ids in display order by a column; ties keep a stable order by name then id."""
    column = BY_KEY[key]
    by_name = sorted(workers, key=lambda d: (d.name.lower(), d.id))
    return [
        d.id for d in sorted(by_name, key=column.sort, reverse=column.descending_first != reverse)
    ]


def next_sort(current: str, shown: Sequence[str]) -> str:
    """The column `s` goes to: the next one shown to the right, wrapping to the first.

    From a column the width hides, the next shown one to its right in display order.
    """
    if not shown:
        return current
    order = [column.key for column in ALL_COLUMNS]
    start = order.index(current)
    for key in order[start + 1 :] + order[: start + 1]:
        if key in shown:
            return key
    return shown[0]


FILTER_FIELDS: tuple[str, ...] = (
    "name", "id", "status", "cml", "type", "region", "account", "license", "owner", "user",
    "lab", "tag",
)  # fmt: skip
"""`field:text` prefixes; plain text matches only what the columns show."""


def parse_filter(needle: str) -> tuple[str | None, str]:
    """(field or None, lower-cased text): `owner:bob` -> ("owner", "bob")."""
    field, sep, rest = needle.partition(":")
    if sep and field.strip().lower() in FILTER_FIELDS:
        return field.strip().lower(), rest.strip().lower()
    return None, needle.strip().lower()


def matches(dto: CMLWorkerDto, needle: str) -> bool:
    """Case-insensitive substring filter: plain text over the shown columns' words, or one field
    named by a prefix (so a row never matches for a reason the screen does not show)."""
    field, text = parse_filter(needle)
    if not text:
        return True
    if field is None:
        return text in _haystack(dto)
    return any(text in value.lower() for value in _field_values(dto, field))


def _field_values(dto: CMLWorkerDto, field: str) -> list[str]:
    labs = dto.labs or ()
    values: dict[str, list[str | None]] = {
        "name": [dto.name],
        "id": [dto.id],
        "status": [dto.status.value],
        "cml": [_SERVICE_WORDS[dto.service_status], dto.service_status.value],
        "type": [dto.instance_type],
        "region": [dto.aws_region],
        "account": [dto.aws_account],
        "license": [dto.license_status.value if dto.license_status else None],
        "owner": [dto.created_by, *(lab.owner for lab in labs)],
        "user": [*dto.recent_users, *dto.recent_user_ids],
        "lab": [lab.title for lab in labs],
        "tag": [f"{key}={value}" for key, value in dto.aws_tags.items()],
    }
    return [value for value in values[field] if value]


_HAYSTACKS: dict[str, tuple[tuple[object, ...], str]] = {}
_HAYSTACKS_MAX = 20_000


def _haystack(dto: CMLWorkerDto) -> str:
    """The words the worker's columns show, lower-cased once and reused while they stay the same.

    Snapshots bring new DTOs every cycle, so the cache is keyed by worker id and checked
    against the fields (cheap: an equality test, no lower-casing). Fields are joined by NUL,
    which a typed filter never contains, so no match spans two fields.
    """
    fields = (
        dto.name,
        dto.status,
        dto.service_status,
        dto.instance_type,
        dto.aws_region,
        dto.license_status,
        dto.is_idle,
        dto.aws_account,
    )
    cached = _HAYSTACKS.get(dto.id)
    if cached is not None and cached[0] == fields:
        return cached[1]
    name, status, service, itype, region, license_status, is_idle, account = fields
    words = [
        name,
        dto.id,
        status.value,
        _SERVICE_WORDS[service],
        itype or "",
        region,
        license_status.value if license_status else "",
        "idle" if is_idle else "",
        account or "",
    ]
    haystack = "\0".join(words).lower()
    if len(_HAYSTACKS) >= _HAYSTACKS_MAX:
        _HAYSTACKS.clear()
    _HAYSTACKS[dto.id] = (fields, haystack)
    return haystack
