"""Which workers and labs a command names (README, "Actions from the command line").

A worker is named by its name, its instance id, its key (`account/instance-id`, with several AWS
accounts) or its Cloud Manager id; a lab by its id or its title. A name that matches more than
one is an error that lists the candidates, and so is one that matches none: the command then
sends nothing at all (exit 2), never half of it.
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
    by_key = [dto for dto in workers if dto.id == name]  # `account/instance-id`, or the id
    found = by_key or [dto for dto in workers if dto.aws_instance_id == name]
    found = found or [dto for dto in workers if dto.name == name]
    if len(found) == 1:
        return found[0]
    if not found:
        raise PickError(
            f"no worker {_quoted(name)} (by name, instance id, account/instance-id or Cloud "
            "Manager id)"
        )
    listed = ", ".join(_candidate(dto) for dto in found[:MAX_CANDIDATES])
    more = f" and {len(found) - MAX_CANDIDATES} more" if len(found) > MAX_CANDIDATES else ""
    by = "account/instance-id" if any(dto.aws_account for dto in found) else "instance id"
    raise PickError(f"{_quoted(name)} names {len(found)} workers: {listed}{more}; name one by {by}")


def _candidate(dto: CMLWorkerDto) -> str:
    """A worker as an ambiguity lists it: the key that names it alone, where it is, its state."""
    return f"{visible(dto.id, 160)} ({visible(dto.aws_region, 40)}, {dto.status.value})"


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
