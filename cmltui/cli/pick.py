"""Which workers and labs a command names (README, "Actions from the command line").

A worker is named by its name, its instance id or its Cloud Manager id; a lab by its id or its
title. A name that matches more than one is an error that lists the candidates, and so is one
that matches none: the command then sends nothing at all (exit 2), never half of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cmltui.api.dto import CMLWorkerDto, LabDto
from cmltui.domain.sanitize import visible

MAX_CANDIDATES = 10


class PickError(Exception):
    """A name that picks no worker or lab, or more than one: a usage error."""


@dataclass(frozen=True)
class LabPick:
    """A lab a command names: its id, and its title and state when the fleet read listed it."""

    id: str
    title: str | None = None
    state: str | None = None


def pick_workers(workers: Sequence[CMLWorkerDto], names: Sequence[str]) -> list[CMLWorkerDto]:
    """The workers `names` name, in that order, each once."""
    picked: dict[str, CMLWorkerDto] = {}
    for name in names:
        dto = _one_worker(workers, name)
        picked.setdefault(dto.id, dto)
    return list(picked.values())


def _one_worker(workers: Sequence[CMLWorkerDto], name: str) -> CMLWorkerDto:
    by_id = [dto for dto in workers if name in (dto.id, dto.aws_instance_id)]
    if len(by_id) == 1:
        return by_id[0]
    by_name = [dto for dto in workers if dto.name == name]
    if len(by_name) == 1:
        return by_name[0]
    if not by_name:
        raise PickError(f"no worker {_quoted(name)} (by name, instance id or Cloud Manager id)")
    listed = ", ".join(
        f"{dto.aws_instance_id} ({dto.aws_region}, {dto.status.value})"
        for dto in by_name[:MAX_CANDIDATES]
    )
    more = f" and {len(by_name) - MAX_CANDIDATES} more" if len(by_name) > MAX_CANDIDATES else ""
    raise PickError(
        f"{_quoted(name)} names {len(by_name)} workers: {listed}{more}; name one by instance id"
    )


def pick_labs(worker: CMLWorkerDto, names: Sequence[str]) -> list[LabPick]:
    """The labs `names` name on this worker, in that order, each once.

    When the worker's labs are not known (its CML did not answer the fleet read), a name is
    taken as a lab id: the backend reads the lab right before acting and refuses if CML has no
    such lab.
    """
    picked: dict[str, LabPick] = {}
    for name in names:
        lab = _one_lab(worker, name)
        picked.setdefault(lab.id, lab)
    return list(picked.values())


def _one_lab(worker: CMLWorkerDto, name: str) -> LabPick:
    labs = worker.labs
    if labs is None:
        return LabPick(name)
    by_id = [lab for lab in labs if lab.id == name]
    found = by_id or [lab for lab in labs if lab.title == name]
    if len(found) == 1:
        return _lab_pick(found[0])
    if not found:
        raise PickError(f"{_quoted(worker.name)} has no lab {_quoted(name)} (by id or title)")
    listed = ", ".join(f"{lab.id} ({lab.state})" for lab in found[:MAX_CANDIDATES])
    raise PickError(
        f"{_quoted(name)} names {len(found)} labs on {_quoted(worker.name)}: {listed}; "
        "name one by id"
    )


def _lab_pick(lab: LabDto) -> LabPick:
    return LabPick(lab.id, lab.title, lab.state)


def _quoted(text: str) -> str:
    return repr(visible(text, 120))
