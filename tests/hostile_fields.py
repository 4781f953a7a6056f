"""Every text field of the worker DTO, found from the model, and hostile DTOs that fill them.

`text_paths()` walks `CMLWorkerDto`'s annotations: a field added later is found without anyone
listing it. `hostile_dtos()` builds workers through the real mappers (the Cloud Manager one,
fed a payload with a hostile value in every DTO text field by name, and the AWS one, fed the
fields only AWS and CML fill), so a test can check that each path really carries hostile text
(`uncovered`) before it draws them.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from enum import Enum
from itertools import cycle
from typing import Any, Union

from pydantic import BaseModel

from cmltui.api.dto import CMLWorkerDto
from cmltui.ccm_facts import CcmLab
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.sanitize import visible
from cmltui.domain.worker import AmiFacts, CMLWorker, LabSummary
from cmltui.mapper import CcmMapContext, MapContext, map_ccm_snapshot_to_dto, map_worker_to_dto
from tests.hostile_corpus import CORPUS

Path = tuple[str, ...]
KEYS, VALUES, ITEMS, ANY = "{key}", "{}", "[]", "{any}"

OWN_WORDS: dict[Path, str] = {
    ("unknown_fields", ITEMS): "names of DTO fields (the mapper's own)",
    ("savings", "basis", ITEMS): "what savings rest on: 'audit log', 'pause tags', 'EC2 stop time'",
    ("fact_ages_seconds", KEYS): "names of DTO fields",
    ("utilization_ages_seconds", KEYS): "names of DTO fields",
    ("errors", KEYS): "names of sources: ec2, cml, url, addresses, times, ...",
    ("cml_system_info", KEYS): "the normalised shape's names (compute ids are below them)",
}
"""Text paths whose values are cmltui's own words, never outside text (and checked to be so)."""

SENTENCES: dict[Path, str] = {
    ("https_endpoint_refusal",): "cmltui's reason, naming the host as the sanitiser shows it",
}
"""Text paths that hold cmltui's sentences about outside text: checked to be visible text."""

ADDRESSES: set[Path] = {("public_ip",), ("private_ip",), ("public_dns",), ("private_dns",)}
"""Fields the mapper keeps only when valid: hostile text goes to `errors['addresses']`."""


def text_paths(model: type[BaseModel] = CMLWorkerDto) -> set[Path]:
    """Every place in the model where a string can be, as a path of field names and steps."""
    paths: set[Path] = set()
    for name, info in model.model_fields.items():
        paths |= {(name, *rest) for rest in _paths_of(info.annotation)}
    return paths


def _paths_of(annotation: Any) -> set[Path]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is str:
        return {()}
    if annotation is Any:
        return {(ANY,)}
    if origin is typing.Annotated:
        return _paths_of(args[0])
    if origin in (Union, types.UnionType):
        return set().union(*(_paths_of(arg) for arg in args))
    if origin is typing.Literal or annotation is type(None):
        return set()
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return set()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return text_paths(annotation)
    if origin in (dict, Mapping):
        keys = {(KEYS,)} if _paths_of(args[0]) else set()
        return keys | {(VALUES, *rest) for rest in _paths_of(args[1])}
    if origin in (list, tuple, set, frozenset):
        return {(ITEMS, *rest) for rest in _paths_of(args[0])}
    return set()  # numbers, booleans, datetimes


def strings_at(value: Any, path: Path) -> list[str]:
    """The strings found at `path` in a DTO (or part of one)."""
    if value is None:
        return []
    if not path:
        return [value] if isinstance(value, str) else []
    step, rest = path[0], path[1:]
    if step == ANY:
        return list(_all_strings(value))
    if step == KEYS:
        return [k for k in value if isinstance(k, str)]
    if step == VALUES:
        return [s for v in value.values() for s in strings_at(v, rest)]
    if step == ITEMS:
        return [s for v in value for s in strings_at(v, rest)]
    return strings_at(getattr(value, step), rest)


def _all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _all_strings(key)
            yield from _all_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _all_strings(item)


_MARKS = {
    form[:12]
    for text in CORPUS
    for form in (text, visible(text), " ".join(visible(text).split()))
    if len(form) >= 3
}


def is_hostile(text: str) -> bool:
    """Whether `text` holds (the start of) a corpus string, raw or as the sanitiser shows it."""
    return any(mark in text for mark in _MARKS)


def uncovered(dtos: list[CMLWorkerDto]) -> dict[Path, str]:
    """Text paths that no DTO fills with hostile text (and why that is wrong)."""
    missing = {}
    for path in text_paths():
        found = [s for dto in dtos for s in strings_at(dto, path)]
        if path in OWN_WORDS:
            if any(not s.replace("_", " ").replace(" ", "").isalnum() for s in found):
                missing[path] = f"holds more than {OWN_WORDS[path]}: {found[:3]!r}"
        elif path in SENTENCES:
            if not found or any(s != visible(s) for s in found):
                missing[path] = f"not exercised, or not visible text: {found[:3]!r}"
        elif path in ADDRESSES:
            refused = [dto.errors.get("addresses", "") for dto in dtos]
            if not any(path[0] in text and is_hostile(text) for text in refused):
                missing[path] = "no hostile address was refused into errors['addresses']"
        elif not any(is_hostile(s) for s in found):
            missing[path] = "never carries hostile text: feed it in tests/hostile_fields.py"
    return missing


# --- hostile DTOs through the mappers ----------------------------------------------------------


def _hostile_value(annotation: Any, texts: Iterator[str]) -> Any:
    """A hostile value shaped as `annotation` says (the payload of Cloud Manager's DTO)."""
    paths = _paths_of(annotation)
    if {()} == paths or () in paths:
        return next(texts)
    if any(ANY in path for path in paths):
        return {
            next(texts): next(texts),
            "computes": {next(texts): {"hostname": next(texts), "stats": {}}},
            "authorization": {"status": next(texts), "expires": next(texts)},
            "nested": [next(texts), {next(texts): next(texts)}],
        }
    if any(path[:1] in ((KEYS,), (VALUES,)) for path in paths):
        return {next(texts): next(texts) for _ in range(3)}
    if any(path[:1] == (ITEMS,) for path in paths):
        return [next(texts), next(texts)]
    return None


def ccm_payload(texts: Iterator[str], worker_id: str) -> dict[str, Any]:
    """A running worker's `worker.snapshot` with a hostile value in every DTO text field."""
    payload: dict[str, Any] = {}
    for name, info in CMLWorkerDto.model_fields.items():
        if _paths_of(info.annotation):
            payload[name] = _hostile_value(info.annotation, texts)
    payload.update(
        aws_instance_id=worker_id,
        status="running",
        instance_type="m5zn.metal",  # priced, so the price line shows; one worker unpriced below
        cpu_utilization=12.5,
        is_idle_detection_enabled=True,
    )
    return payload


def hostile_dtos(now: datetime, count: int = 6) -> list[CMLWorkerDto]:
    """`count` Cloud Manager workers and `count` AWS workers, hostile in every text field."""
    texts = cycle(CORPUS)
    dtos = []
    for index in range(count):
        worker_id = f"i-0ccm{index:013x}"
        payload = ccm_payload(texts, worker_id)
        payload["id"] = f"{payload['id'][:40]}#{index}"  # hostile, and one row each
        if index:
            payload["aws_instance_id"] = next(texts)
        if index % 2:
            payload["instance_type"] = next(texts)  # unpriced: "no known price (region)"
        labs = [CcmLab(next(texts), next(texts), next(texts), next(texts), 3) for _ in range(3)]
        labs.append(CcmLab(next(texts), next(texts), next(texts), "STARTED", 4))
        ctx = CcmMapContext(now=now, received_at=now, labs=labs, labs_read_at=now)
        dtos.append(map_ccm_snapshot_to_dto(payload, ctx))
    for index in range(count):
        dtos.append(map_worker_to_dto(_aws_worker(index, texts, now), MapContext(now=now)))
    # errors['addresses'] is bounded (200 characters): with all four hostile, the last ones may
    # be cut off, so each address is also the only hostile one of a worker.
    for index, field in enumerate(sorted(path[0] for path in ADDRESSES), start=count):
        worker = _aws_worker(index, texts, now)
        for other in ADDRESSES:
            if other[0] != field:
                setattr(worker, other[0], None)
        dtos.append(map_worker_to_dto(worker, MapContext(now=now)))
    return dtos


def _aws_worker(index: int, texts: Iterator[str], now: datetime) -> CMLWorker:
    """An AWS worker whose every outside string (tags, EC2, AMI, CML, history) is hostile."""
    name = next(texts)
    worker = CMLWorker(
        instance_id=f"i-0aws{index:013x}",
        region=next(texts),
        name=name,
        instance_type="m5zn.metal" if index % 2 else next(texts),
        status=WorkerStatus.RUNNING,
        tags={"Name": name, "cmltui:created-by": next(texts), next(texts): next(texts)},
        account=next(texts),
        ami_id=next(texts),
        public_ip=next(texts),
        private_ip=next(texts),
        public_dns=next(texts),
        private_dns=next(texts),
        https_endpoint=next(texts),
        ec2_state_detail=next(texts),
        ec2_system_status_check=next(texts),
        launch_time=now - timedelta(hours=3),
        collected_at=now,
    )
    worker.ami = AmiFacts(next(texts), next(texts))
    worker.cml.version = next(texts)
    worker.cml.licensing = {"registration": {"status": next(texts)}, next(texts): next(texts)}
    worker.cml.system_health = {"valid": False, next(texts): next(texts)}
    worker.cml.labs = [
        LabSummary(next(texts), next(texts), next(texts), next(texts), next(texts), 2)
        for _ in range(3)
    ]
    user = next(texts)
    worker.cml.users = {user: next(texts)}
    worker.activity.recent_user_ids = (user, next(texts))
    worker.history.last_paused_by = next(texts)
    worker.history.last_resumed_by = next(texts)
    worker.errors = {"cml": next(texts), "cloudwatch": next(texts)}
    return worker
