"""The idle widget's states are right and tell themselves apart in words."""

from __future__ import annotations

from tests.tui.idle_states_app import IdleStatesApp


async def test_each_idle_state_reads_differently(workers, clock):
    app = IdleStatesApp(workers, clock)
    async with app.run_test(size=(104, 36)) as pilot:
        app.show()
        await pilot.pause()
        texts = app.texts()
    assert len(set(texts.values())) == len(texts)  # no two states look the same
    first = {title: text.splitlines()[:3] for title, text in texts.items()}
    assert first["enabled"][0] == "Detection   ON"
    assert first["enabled"][2] == "Would pause at 14:57 (auto-pause off)"
    assert first["disabled by tag"][0] == "Detection   OFF (by tag)"
    assert first["disabled by tag"][1:] == ["Idle for    — (idle detection off)", "Pause at    —"]
    assert first["disabled by default"][0] == "Detection   OFF (default)"
    assert first["idle (auto-pause off)"][1] == "Idle for    3h00m  IDLE (timeout 60m)"
    assert first["idle (auto-pause off)"][2] == "Would pause now (due 12:00; auto-pause off)"
    assert first["idle (auto-pause on)"][2] == "Pausing     now (due since 12:00)"
    assert "Snooze      until 14:40" in texts["in snooze"]
    assert "Snooze      no" in texts["enabled"]
    # the target is pushed past the end of the snooze
    assert first["in snooze"][2] == "Would pause at 14:40 (auto-pause off)"
    assert first["would pause at (auto-pause off)"][2] == "Would pause at 14:10 (auto-pause off)"
    assert first["pauses at (auto-pause on)"][2] == "Pauses at   14:10 (auto-pause on)"
    assert first["auto-pause on, read-only"][2] == "Would pause at 14:10 (read-only)"
    assert first["stopped"][1] == "Idle for    — (worker stopped)"
