"""Finding a worker in a snapshot: by instance id, or by a name that must be unique."""

from __future__ import annotations

from cmltui.api.dto import CMLWorkerDto
from cmltui.api.events import FleetSnapshot


def by_name(snapshot: FleetSnapshot) -> dict[str, CMLWorkerDto]:
    """The snapshot's workers by name; a name listed twice is an error, not a silent pick.

    EC2 keeps listing a terminated instance for about an hour, so a test that makes and
    terminates a worker on a shared fleet leaves its name behind: such a test looks its worker
    up by instance id (`by_id`), and names it apart from any other test's.
    """
    found: dict[str, CMLWorkerDto] = {}
    for dto in snapshot.workers:
        if dto.name in found:
            raise AssertionError(
                f"two workers are named {dto.name!r} ({found[dto.name].id}, {dto.id}): "
                "look the worker up by instance id"
            )
        found[dto.name] = dto
    return found


def by_id(snapshot: FleetSnapshot) -> dict[str, CMLWorkerDto]:
    return {dto.id: dto for dto in snapshot.workers}
