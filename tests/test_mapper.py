"""Every mapping rule of `map_worker_to_dto`, with its edge cases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from cmltui.api.dto import worker_dto_to_dict
from cmltui.domain.enums import LicenseStatus, ServiceStatus, WorkerStatus
from cmltui.domain.prices import StaticPrices
from cmltui.domain.transitions import apply_status
from cmltui.domain.worker import PauseHistory
from cmltui.mapper import MapContext, map_worker_to_dto
from tests.core_factories import NOW, cw, running_worker, stats

CTX = MapContext(now=NOW, prices=StaticPrices(table={"us-east-1": {"m5zn.metal": 3.9641}}))


def test_cml_values_win_when_cloudwatch_absent():
    dto = map_worker_to_dto(running_worker(), CTX)
    assert dto.cpu_utilization == 42.0
    assert dto.memory_utilization == 25.0  # 32 / 128
    assert dto.storage_utilization == 25.0  # 50 / 200
    assert dto.disk_utilization == dto.storage_utilization


def test_zero_is_a_real_zero_not_missing():
    worker = running_worker()
    worker.cml.system_info = stats(cpu=0, mem_used=0, disk_used=0)
    worker.cloudwatch.cpu = cw(55.0, age_s=600)  # older: must not replace the CML zero
    dto = map_worker_to_dto(worker, CTX)
    assert dto.cpu_utilization == 0.0
    assert dto.memory_utilization == 0.0
    assert dto.storage_utilization == 0.0


def test_none_stays_none_not_zero():
    worker = running_worker()
    worker.cml.system_info = stats(cpu=None, mem_used=None, disk_used=None)
    dto = map_worker_to_dto(worker, CTX)
    assert dto.cpu_utilization is None
    assert dto.memory_utilization is None
    assert dto.storage_utilization is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (150, 100.0),
        (-3, 0.0),
        (100.0, 100.0),
        (0.5, 0.5),
        ("n/a", None),
        ("42", None),
        (float("nan"), None),
        (float("inf"), None),
        (float("-inf"), None),
        (True, None),
        (False, None),
        (None, None),
        (10**400, None),  # an int too large for a float is not a finite number
        (10**300, 100.0),
    ],
)
def test_cpu_clamped_or_none(raw, expected):
    worker = running_worker()
    worker.cml.system_info = stats(cpu=raw)
    if raw == 10**400:
        # JSON can carry it; float() overflows. It must become None, not raise.
        with pytest.raises(OverflowError):
            float(raw)
    assert map_worker_to_dto(worker, CTX).cpu_utilization == expected


@pytest.mark.parametrize("raw", ["n/a", float("nan"), float("inf"), True, None])
def test_cloudwatch_values_sanitised_too(raw):
    worker = running_worker()
    worker.cml.system_info = None
    worker.cloudwatch.cpu = cw(raw, age_s=60)
    dto = map_worker_to_dto(worker, CTX)
    assert dto.cpu_utilization is None
    assert dto.cloudwatch_cpu_utilization is None


def test_cloudwatch_is_the_fallback_when_cml_has_no_stats():
    worker = running_worker()
    worker.cml.system_info = None
    worker.cloudwatch.cpu = cw(12.5, age_s=120)
    worker.cloudwatch.memory = cw(130.0, age_s=120)
    worker.cloudwatch.disk = cw(-1, age_s=120)
    dto = map_worker_to_dto(worker, CTX)
    assert (dto.cpu_utilization, dto.memory_utilization, dto.storage_utilization) == (
        12.5,
        100.0,
        0.0,
    )


def test_stale_cml_loses_to_fresh_cloudwatch():
    worker = running_worker()
    worker.cml.stats_synced_at = NOW - timedelta(minutes=20)
    worker.cloudwatch.cpu = cw(77.0, age_s=60)
    assert map_worker_to_dto(worker, CTX).cpu_utilization == 77.0


def test_fresh_cml_beats_stale_cloudwatch():
    worker = running_worker()
    worker.cml.stats_synced_at = NOW - timedelta(seconds=5)
    worker.cloudwatch.cpu = cw(77.0, age_s=600)
    assert map_worker_to_dto(worker, CTX).cpu_utilization == 42.0


def test_stopped_worker_has_no_addresses_or_metrics_but_keeps_history():
    worker = running_worker()
    worker.cloudwatch.cpu = cw(50.0, age_s=30)
    worker.history = PauseHistory(auto_pause_count=2, manual_pause_count=1, manual_resume_count=3)
    worker.cml.version_read_at = NOW - timedelta(minutes=4)
    worker.cml.licensing = {"registration": {"status": "COMPLETED"}}
    worker.cml.licensing_read_at = NOW - timedelta(minutes=30)
    worker.cml.system_health = {"valid": True}
    worker.cml.health_read_at = NOW - timedelta(seconds=20)
    apply_status(worker, WorkerStatus.STOPPED, observed_at=NOW)
    dto = map_worker_to_dto(worker, CTX)
    assert dto.status == WorkerStatus.STOPPED
    assert dto.service_status == ServiceStatus.UNAVAILABLE
    assert (dto.public_ip, dto.private_ip, dto.https_endpoint) == (None, None, None)
    assert dto.cpu_utilization is None and dto.memory_utilization is None
    assert dto.storage_utilization is None and dto.cloudwatch_cpu_utilization is None
    assert dto.cml_system_info is None and dto.cml_system_health is None
    # Slow-changing CML facts survive the stop, each with its age.
    assert dto.cml_version == "2.9.0"
    assert dto.cml_license_info == {"registration": {"status": "COMPLETED"}}
    assert dto.fact_ages_seconds == {"cml_version": 240, "cml_license_info": 1800}
    assert (dto.auto_pause_count, dto.manual_pause_count, dto.manual_resume_count) == (2, 1, 3)
    assert dto.hourly_cost == 0.0


def test_mapper_hides_metrics_of_a_stopped_worker_even_if_registry_kept_them():
    worker = running_worker()
    worker.status = WorkerStatus.STOPPED  # registry not cleared: the mapper still must not show
    dto = map_worker_to_dto(worker, CTX)
    assert dto.cpu_utilization is None and dto.public_ip is None


def test_datetimes_are_iso_with_offset_and_enums_strings():
    worker = running_worker()
    data = worker_dto_to_dict(map_worker_to_dto(worker, CTX))
    assert data["created_at"] == "2026-11-26T12:00:00+00:00"
    assert data["status"] == "running"
    assert data["service_status"] == "available"
    assert isinstance(data["cml_system_info"], dict)
    assert json.loads(json.dumps(data)) == data


def test_system_info_normalised_with_summed_nodes():
    info = map_worker_to_dto(running_worker(), CTX).cml_system_info
    assert info is not None
    assert info["cpu_count"] == 48 and info["cpu_percent"] == 42.0
    assert info["memory_total"] == 128.0 and info["disk_used"] == 50.0
    assert info["running_nodes"] == 9 and info["total_nodes"] == 15
    assert set(info["computes"]) == {"c1", "c2"}
    assert info["computes"]["c2"]["hostname"] == "compute-2"


def test_license_token_never_reaches_the_dto():
    worker = running_worker()
    worker.cml.licensing = {
        "registration": {"status": "COMPLETED", "token": "SECRET-TOKEN-123"},
        "authorization": {"status": "AUTHORIZED"},
        "id_token": "SECRET-TOKEN-456",
    }
    dto = map_worker_to_dto(worker, CTX)
    text = json.dumps(worker_dto_to_dict(dto))
    assert "SECRET-TOKEN" not in text
    assert dto.license_status == LicenseStatus.REGISTERED


def test_name_falls_back_to_instance_id():
    worker = running_worker(tags={"cml-worker": ""})
    assert map_worker_to_dto(worker, CTX).name == worker.instance_id


def test_hourly_cost_from_price_table():
    assert map_worker_to_dto(running_worker(), CTX).hourly_cost == pytest.approx(3.9641)
    assert map_worker_to_dto(running_worker(instance_type="x9.odd"), CTX).hourly_cost is None


def test_uptime_counts_from_last_start_while_api_answers():
    worker = running_worker()
    assert map_worker_to_dto(worker, CTX).cml_uptime_seconds == 2 * 86400
    worker.history.last_resumed_at = NOW - timedelta(minutes=10)
    assert map_worker_to_dto(worker, CTX).cml_uptime_seconds == 600


def test_stale_age_only_while_old_stats_are_shown():
    from cmltui.domain.status import CMLOutcome, CMLReach

    worker = running_worker()
    worker.cml.outcome = CMLOutcome(CMLReach.NO_ANSWER)
    worker.cml.stats_synced_at = NOW - timedelta(seconds=95)
    assert map_worker_to_dto(worker, CTX).cml_stale_seconds == 95
    apply_status(worker, WorkerStatus.STOPPED, observed_at=NOW)
    apply_status(worker, WorkerStatus.RUNNING, observed_at=NOW)  # booting again: nothing old
    worker.cml.outcome = CMLOutcome(CMLReach.NO_ANSWER)
    assert map_worker_to_dto(worker, CTX).cml_stale_seconds is None


def test_user_names_survive_a_stop():
    worker = running_worker()
    worker.cml.users = {"u-1": "alice"}
    worker.activity.recent_user_ids = ("u-1", "u-2")
    apply_status(worker, WorkerStatus.STOPPED, observed_at=NOW)
    assert map_worker_to_dto(worker, CTX).recent_users == ["alice", "u-2"]
