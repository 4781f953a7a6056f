"""What Cloud Manager says besides its worker snapshot, read into plain facts for the mapper.

Its idle verdict (`GET …/idle-status`), its lab list (`GET /api/labs/…/labs` and
`worker.labs.updated`) and the values cmltui keeps while a worker is stopped are outside data:
each is read here, checked and bounded, so that `cmltui.mapper` lays plain facts into the DTO.
`normalised_system_info` turns Cloud Manager's `cml_system_info` into the shape the AWS path
gives (README, "How cmltui's JSON differs from Cloud Manager's").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cmltui.domain.sanitize import finite_number, finite_percent
from cmltui.domain.times import not_ahead, parse_time

MAX_LABS: Final = 500
"""Labs kept per worker; a longer list is cut (CML itself slows down long before)."""
MAX_TEXT: Final = 512
MAX_COMPUTES: Final = 64


@dataclass(frozen=True)
class IdleVerdict:
    """Cloud Manager's own verdict on one worker, as its `idle-status` route gave it."""

    is_idle: bool
    idle_minutes: float | None  # null upstream when it has never seen activity
    in_snooze: bool
    eligible_for_pause: bool
    auto_pause_enabled: bool  # its global switch and the worker's, together
    read_at: datetime


def read_idle_status(body: Any, now: datetime) -> IdleVerdict | None:
    """The verdict in an `idle-status` answer; None when `is_idle` is not a boolean."""
    if not isinstance(body, Mapping) or not isinstance(body.get("is_idle"), bool):
        return None
    minutes = finite_number(body.get("idle_minutes"))
    return IdleVerdict(
        is_idle=body["is_idle"],
        idle_minutes=max(0.0, minutes) if minutes is not None else None,
        in_snooze=body.get("in_snooze_period") is True,
        eligible_for_pause=body.get("eligible_for_pause") is True,
        auto_pause_enabled=body.get("auto_pause_enabled") is not False,
        read_at=now,
    )


@dataclass(frozen=True)
class CcmLab:
    """One lab on a worker: what the labs panel and the detail screen show."""

    id: str
    title: str
    owner: str | None
    state: str
    node_count: int | None


def read_lab(item: Any) -> CcmLab | None:
    """One lab from the labs route (`id`, `owner_username`, `owner`) or from a
    `worker.labs.updated` event (`lab_id`); None without an id and a state."""
    if not isinstance(item, Mapping):
        return None
    lab_id = _text(item.get("id")) or _text(item.get("lab_id"))
    state = _text(item.get("state"), 64)
    if not lab_id or not state:
        return None
    nodes = finite_number(item.get("node_count"))
    return CcmLab(
        id=lab_id,
        title=_text(item.get("title")) or lab_id,
        owner=_text(item.get("owner_username"), 128) or _text(item.get("owner"), 128),
        state=state,
        node_count=int(nodes) if nodes is not None and 0 <= nodes < 1_000_000 else None,
    )


def read_labs(body: Any) -> list[CcmLab] | None:
    """The labs route's answer (a JSON list); None when it is not a list."""
    if not isinstance(body, list):
        return None
    labs = (read_lab(item) for item in body[:MAX_LABS])
    return [lab for lab in labs if lab is not None]


def apply_lab_event(labs: Iterable[CcmLab], data: Mapping[str, Any]) -> list[CcmLab] | None:
    """The lab list after one `worker.labs.updated` (upstream's
    `application/events/domain/lab_record_events.py`): `created` and `updated` carry the lab,
    `state_changed` only its new state. None when the event says nothing usable."""
    current = {lab.id: lab for lab in labs}
    lab_id = _text(data.get("lab_id"))
    if not lab_id:
        return None
    if data.get("action") == "state_changed":
        old = current.get(lab_id)
        state = _text(data.get("new_state"), 64)
        if old is None or not state:
            return None
        current[lab_id] = CcmLab(old.id, old.title, old.owner, state, old.node_count)
    else:
        lab = read_lab(data)
        if lab is None or (lab_id not in current and len(current) >= MAX_LABS):
            return None
        current[lab_id] = lab
    return list(current.values())


@dataclass(frozen=True)
class KeptFact:
    """A value Cloud Manager blanks on a stop (the CML version) or may drop (the licence),
    kept with when it was read, as the AWS path keeps it (shown with its age)."""

    value: Any
    read_at: datetime


def read_at(payload: Mapping[str, Any], received_at: datetime) -> datetime:
    """When a snapshot's CML facts were read: its `cml_last_synced_at`, else when it came."""
    synced = not_ahead(parse_time(payload.get("cml_last_synced_at")), received_at)
    return min(synced, received_at) if synced is not None else received_at


_NODE_KEYS: Final = ("total_nodes", "running_nodes", "allocated_cpus", "allocated_memory")


def normalised_system_info(info: Any) -> dict[str, Any] | None:
    """Cloud Manager's `cml_system_info` (upstream's `CMLSystemInfo.to_dict()`: CPU as
    `cpu_utilization`, each compute's figures under `stats.cpu|memory|disk|dominfo`) in the
    shape of the AWS path's (`cpu_percent`, each compute flat). Numbers are finite or None."""
    if not isinstance(info, Mapping):
        return None
    computes: dict[str, Any] = {}
    raw = info.get("computes")
    for compute_id, compute in list(raw.items())[:MAX_COMPUTES] if isinstance(raw, Mapping) else []:
        if not isinstance(compute, Mapping):
            continue
        stats = _mapping(compute.get("stats"))
        cpu, dominfo = _mapping(stats.get("cpu")), _mapping(stats.get("dominfo"))
        computes[str(compute_id)[:128]] = {
            "hostname": _text(compute.get("hostname"), 256),
            "is_controller": compute.get("is_controller") is True,
            **_resources(
                cpu.get("count"), cpu.get("percent"), stats.get("memory"), stats.get("disk")
            ),
            "running_nodes": _count(dominfo.get("running_nodes")),
            "total_nodes": _count(dominfo.get("total_nodes")),
        }
    memory = {k: info.get(f"memory_{k}") for k in ("total", "used", "free")}
    disk = {k: info.get(f"disk_{k}") for k in ("total", "used", "free")}
    cpu_percent = info.get("cpu_utilization", info.get("cpu_percent"))
    return {
        **_resources(info.get("cpu_count"), cpu_percent, memory, disk),
        **{key: _count(info.get(key)) for key in _NODE_KEYS},
        "computes": computes,
    }


def _resources(count: Any, percent: Any, memory: Any, disk: Any) -> dict[str, Any]:
    memory, disk = _mapping(memory), _mapping(disk)
    return {
        "cpu_count": _count(count),
        "cpu_percent": finite_percent(percent),
        "memory_total": finite_number(memory.get("total")),
        "memory_used": finite_number(memory.get("used")),
        "memory_free": finite_number(memory.get("free")),
        "disk_total": finite_number(disk.get("total")),
        "disk_used": finite_number(disk.get("used")),
        "disk_free": finite_number(disk.get("free")),
    }


def _count(value: Any) -> int | None:
    number = finite_number(value)
    return int(number) if number is not None and 0 <= number < 2**53 else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None
