"""Property tests: any input gives utilizations in [0, 100] or None, and JSON round-trips."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cmltui.api.dto import worker_dto_to_dict
from cmltui.domain.enums import WorkerStatus
from cmltui.domain.worker import MetricReading
from cmltui.mapper import MapContext, map_worker_to_dto
from tests.core_factories import NOW, running_worker, system_info_from_body

weird = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e308, max_value=1e308),
    st.text(max_size=8),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(float("-inf")),
)
stamps = st.one_of(st.none(), st.integers(min_value=-3600, max_value=3600))
UTIL_FIELDS = (
    "cpu_utilization",
    "memory_utilization",
    "storage_utilization",
    "disk_utilization",
    "cloudwatch_cpu_utilization",
    "cloudwatch_memory_utilization",
)


def _worker(cpu, mem_used, mem_total, disk_used, disk_total, cw_cpu, cw_mem, cw_disk, age, status):
    from datetime import timedelta

    w = running_worker(status=status)
    body = {
        "all": {
            "cpu": {"percent": cpu, "count": cpu},
            "memory": {"used": mem_used, "total": mem_total, "free": mem_total},
            "disk": {"used": disk_used, "total": disk_total, "free": cpu},
        },
        "computes": {
            "x": {
                "hostname": cpu,
                "stats": {
                    "cpu": {"percent": cpu},
                    "dominfo": {"running_nodes": mem_used, "total_nodes": disk_total},
                },
            }
        },
    }
    w.cml.system_info = system_info_from_body(body)  # through the CML source
    stamp = None if age is None else NOW + timedelta(seconds=age)
    w.cloudwatch.cpu = MetricReading(cw_cpu, stamp)
    w.cloudwatch.memory = MetricReading(cw_mem, stamp)
    w.cloudwatch.disk = MetricReading(cw_disk, None)
    w.cml.system_health = {"valid": cpu, "computes": {"x": {"valid": mem_used}}}
    return w


@settings(max_examples=300, deadline=None)
@given(
    weird,
    weird,
    weird,
    weird,
    weird,
    weird,
    weird,
    weird,
    stamps,
    st.sampled_from(list(WorkerStatus)),
)
def test_every_utilization_is_none_or_in_range_and_json_round_trips(
    cpu, mem_used, mem_total, disk_used, disk_total, cw_cpu, cw_mem, cw_disk, age, status
):
    worker = _worker(
        cpu, mem_used, mem_total, disk_used, disk_total, cw_cpu, cw_mem, cw_disk, age, status
    )
    dto = map_worker_to_dto(worker, MapContext(now=NOW))
    for name in UTIL_FIELDS:
        value = getattr(dto, name)
        assert value is None or (isinstance(value, float) and 0.0 <= value <= 100.0), (name, value)
    data = worker_dto_to_dict(dto)
    text = json.dumps(data, allow_nan=False)  # NaN or inf anywhere would raise here
    assert json.loads(text) == data
