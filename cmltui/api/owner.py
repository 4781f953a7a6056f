"""Whose worker it is: the one meaning of "owner" (README, "Owners").

A worker's owner is who its tags say created it (`cmltui:created-by`, else `created-by`,
`owner` or `Owner`: the DTO's `created_by`). The detail screen's "owner", the filter's
`owner:` and the cost screen's "by owner" all ask here. The people who own labs on a worker are
lab owners, a different thing: the filter's `labowner:`, the labs table's OWNER column.
"""

from __future__ import annotations

from typing import Final

from cmltui.api.dto import CMLWorkerDto

NO_OWNER: Final = "(no owner)"
"""A worker whose tags name nobody (shown, grouped and filtered as this)."""


def owner_of(dto: CMLWorkerDto) -> str:
    """The worker's owner, or `NO_OWNER`."""
    return dto.created_by or NO_OWNER
