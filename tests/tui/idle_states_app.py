"""One picture of the real idle-status widget in every state, side by side.

Each case is the dashboard's own `IdleStatusPanel` over its own view-model, fed the fixed
fleet's snapshot (mapped by the real mapper) and showing one worker under one config. Used by a
snapshot test and by `screenshots/make_screenshots.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from textual.app import App, ComposeResult
from textual.containers import Vertical

from cmltui.api.events import FleetSnapshot
from cmltui.clock import Clock
from cmltui.config import Config, IdleConfig
from cmltui.domain.worker import CMLWorker
from cmltui.tui.bus import Bus, SnapshotArrived
from cmltui.tui.fleet_view import FleetView
from cmltui.tui.panels import IdleStatusPanel
from tests.tui.tui_fleet import by_name, snapshot


@dataclass(frozen=True)
class IdleCase:
    title: str
    role: str  # the fixed fleet's worker, by role
    config: Config
    read_only: bool = False


def idle_cases() -> tuple[IdleCase, ...]:
    auto = Config(idle=IdleConfig(auto_pause=True))
    return (
        IdleCase("enabled", "busy", Config()),
        IdleCase("disabled by tag", "labs", Config()),
        IdleCase(
            "disabled by default", "busy", Config(idle=IdleConfig(default_per_worker="disabled"))
        ),
        IdleCase("idle (auto-pause off)", "idle", Config()),
        IdleCase("idle (auto-pause on)", "idle", auto),
        IdleCase("in snooze", "snooze", Config()),
        IdleCase("would pause at (auto-pause off)", "nearpause", Config()),
        IdleCase("pauses at (auto-pause on)", "nearpause", auto),
        IdleCase("auto-pause on, read-only", "nearpause", auto, read_only=True),
        IdleCase("stopped", "stopped", Config()),
    )


class IdleStatesApp(App[None]):
    """Every case's panel, titled, in two columns of boxes."""

    TITLE = "cmltui · idle widget states"

    CSS = """
    Screen { layout: grid; grid-size: 2; grid-gutter: 0 1; padding: 0 1; }
    .case { height: auto; border: round $primary; border-title-color: $text-accent; }
    IdleStatusPanel { height: 5; padding: 0 1; }
    """

    def __init__(self, workers: list[CMLWorker], clock: Clock) -> None:
        super().__init__()
        self.fleet_workers = workers
        self.clock = clock
        self.cases = idle_cases()
        # the mapper decides per config (e.g. the per-worker default), so map once per case
        self.snapshots: list[FleetSnapshot] = [
            snapshot(workers, clock.now(), case.config) for case in self.cases
        ]
        self.buses = [Bus(self) for _ in self.cases]
        self.views = [
            FleetView(
                timedelta(seconds=case.config.idle.settle_seconds),
                idle_enabled=case.config.idle.enabled,
            )
            for case in self.cases
        ]

    def compose(self) -> ComposeResult:
        for index, case in enumerate(self.cases):
            with Vertical(classes="case") as box:
                box.border_title = case.title
                yield IdleStatusPanel(
                    self.buses[index],
                    self.views[index],
                    self.clock,
                    case.config,
                    read_only=case.read_only,
                    id=f"case-{index}",
                )

    def show(self) -> None:
        """Publish each case's snapshot and select its worker (call once mounted)."""
        for index, (case, bus) in enumerate(zip(self.cases, self.buses, strict=True)):
            self.views[index].apply_snapshot(self.snapshots[index])  # as the app does
            bus.snapshots.publish(SnapshotArrived(self.snapshots[index]))
            panel = self.query_one(f"#case-{index}", IdleStatusPanel)
            panel.select(by_name(self.fleet_workers, case.role).instance_id)

    def texts(self) -> dict[str, str]:
        return {
            case.title: self.query_one(f"#case-{index}", IdleStatusPanel).plain()
            for index, case in enumerate(self.cases)
        }
