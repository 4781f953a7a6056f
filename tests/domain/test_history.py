"""Whose pause it was: the tags' history, this process's unwritten one, and external stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cmltui.domain.enums import PauseReason
from cmltui.domain.history import known_history
from cmltui.domain.worker import PauseHistory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _paused(at: datetime, by: str, count: int) -> PauseHistory:
    return PauseHistory(
        manual_pause_count=count,
        last_paused_at=at,
        last_paused_by=by,
        pause_reason=PauseReason.MANUAL,
    )


def test_a_pause_whose_tags_were_refused_is_known_until_the_tags_say_something_newer():
    tagged = _paused(T0, "alice", 1)
    ours = _paused(T0 + timedelta(hours=1), "bob", 2)
    assert known_history(tagged, None) is tagged
    assert known_history(tagged, ours) is ours
    assert known_history(PauseHistory(), ours) is ours  # no history tags at all
    # someone resumed it later and wrote the tags: theirs is the newer story
    later = PauseHistory(
        manual_pause_count=2,
        last_paused_at=ours.last_paused_at,
        last_paused_by="bob",
        last_resumed_at=T0 + timedelta(hours=2),
        last_resumed_by="carol",
    )
    assert known_history(later, ours) is later
    assert known_history(ours, ours) is ours
