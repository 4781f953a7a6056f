"""Activity events, tags and external stop/start derivation."""

from __future__ import annotations

import json
from datetime import timedelta

from cmltui.api.events import (
    ActivityUpdated,
    FleetSnapshot,
    IdleDetectionToggled,
    WorkerPaused,
    WorkerResumed,
)
from cmltui.domain.enums import PauseReason, WorkerStatus
from cmltui.domain.history import derive_external
from cmltui.domain.tags import history_from_tags, pause_tags, resume_tags
from cmltui.domain.worker import PauseHistory
from cmltui.mapper import MapContext, map_worker_to_dto
from tests.core_factories import NOW, running_worker


def test_minimal_payloads_are_exactly_the_spec_fields():
    cases = {
        IdleDetectionToggled: {"worker_id", "is_enabled", "toggled_by", "toggled_at"},
        WorkerPaused: {
            "worker_id",
            "pause_reason",
            "paused_by",
            "paused_at",
            "auto_pause_count",
            "manual_pause_count",
            "idle_duration_minutes",
        },
        WorkerResumed: {
            "worker_id",
            "resume_reason",
            "resumed_by",
            "resumed_at",
            "auto_resume_count",
            "manual_resume_count",
            "was_auto_paused",
        },
        ActivityUpdated: {
            "worker_id",
            "last_activity_at",
            "last_activity_check_at",
            "next_idle_check_at",
            "target_pause_at",
        },
    }
    for cls, fields in cases.items():
        assert set(cls.model_fields) == fields, cls


def test_events_serialise_with_type_and_source():
    event = WorkerPaused(
        worker_id="i-1",
        pause_reason="manual",
        paused_by="alice",
        paused_at=NOW,
        auto_pause_count=0,
        manual_pause_count=1,
        idle_duration_minutes=75.0,
    )
    data = json.loads(json.dumps(event.to_dict()))
    assert data["type"] == "worker.paused"
    assert data["source"] == "domain.worker_activity"
    assert data["data"]["paused_at"] == "2026-11-28T12:00:00+00:00"
    toggled = IdleDetectionToggled(
        worker_id="i-1", is_enabled=False, toggled_by="bob", toggled_at=NOW
    )
    assert toggled.to_dict()["type"] == "worker.idle_detection.toggled"


def test_snapshot_event_carries_full_dtos():
    dto = map_worker_to_dto(running_worker(), MapContext(now=NOW))
    snap = FleetSnapshot(collected_at=NOW, workers=(dto,))
    (event,) = snap.event_dicts()
    assert event["type"] == "worker.snapshot"
    assert event["source"] == "domain.cml_worker.snapshot"
    assert event["data"]["cpu_utilization"] == 42.0
    out = json.loads(json.dumps(snap.to_dict()))
    assert set(out) == {"collected_at", "fleet", "workers", "errors"}
    assert out["fleet"]["burn_per_hour"] == 3.9641  # us-east-1 table price of the running m5zn
    assert out["workers"][0]["price_source"] == "table"


def test_history_tags_round_trip_and_tolerate_garbage():
    history = PauseHistory(
        auto_pause_count=3,
        manual_pause_count=1,
        auto_resume_count=0,
        manual_resume_count=2,
        last_paused_at=NOW,
        last_paused_by="system",
        pause_reason=PauseReason.IDLE_TIMEOUT,
        last_resumed_at=NOW - timedelta(hours=1),
        last_resumed_by="alice",
    )
    tags = pause_tags(history) | resume_tags(history)
    assert history_from_tags(tags) == history
    garbage = {
        "cmltui:auto-pause-count": "many",
        "cmltui:last-paused-at": "yesterday",
        "cmltui:pause-reason": "boredom",
    }
    read = history_from_tags(garbage)
    assert read.auto_pause_count == 0 and read.last_paused_at is None and read.pause_reason is None


def test_external_stop_is_derived_from_state_transition():
    worker = running_worker(status=WorkerStatus.STOPPED)
    worker.ec2_state_transition_at = NOW - timedelta(minutes=5)
    ours = PauseHistory(
        last_paused_at=NOW - timedelta(days=1),
        pause_reason=PauseReason.MANUAL,
        last_paused_by="alice",
        manual_pause_count=1,
    )
    derived = derive_external(worker, ours)
    assert derived.pause_reason is PauseReason.EXTERNAL
    assert derived.last_paused_at == NOW - timedelta(minutes=5)
    assert derived.manual_pause_count == 1
    # cmltui's own stop (tag time matches the transition) stays as recorded
    ours_now = PauseHistory(
        last_paused_at=NOW - timedelta(minutes=5, seconds=2),
        pause_reason=PauseReason.MANUAL,
        last_paused_by="alice",
    )
    assert derive_external(worker, ours_now) == ours_now


def test_external_start_after_our_pause_becomes_last_resume():
    worker = running_worker(launch_time=NOW - timedelta(minutes=8))
    history = PauseHistory(
        last_paused_at=NOW - timedelta(hours=2),
        pause_reason=PauseReason.IDLE_TIMEOUT,
        last_paused_by="system",
    )
    derived = derive_external(worker, history)
    assert derived.last_resumed_at == NOW - timedelta(minutes=8)
    assert derived.last_resumed_by is None
    never_paused = derive_external(worker, PauseHistory())
    assert never_paused.last_resumed_at is None
