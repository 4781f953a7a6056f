"""The single-source rule is checked, not hoped for: one DTO, built in one place."""

from __future__ import annotations

import ast
from pathlib import Path

from cmltui.api.dto import CMLWorkerDto

ROOT = Path(__file__).resolve().parents[2]

SPEC_FIELDS = """
id name aws_region aws_instance_id instance_type
status service_status
ami_id ami_name ami_description ami_creation_date
https_endpoint public_ip private_ip
aws_tags
license_status cml_license_info
cml_version cml_ready cml_uptime_seconds cml_labs_count cml_system_info cml_system_health
cml_last_synced_at
ec2_instance_state_detail ec2_system_status_check ec2_last_checked_at
cloudwatch_cpu_utilization cloudwatch_memory_utilization cloudwatch_last_collected_at
cloudwatch_detailed_monitoring_enabled
cpu_utilization memory_utilization storage_utilization disk_utilization
active_labs_count
poll_interval next_refresh_at created_at updated_at start_initiated_at stop_initiated_at
terminated_at created_by
last_activity_at last_activity_check_at next_idle_check_at target_pause_at
is_idle_detection_enabled
auto_pause_count manual_pause_count auto_resume_count manual_resume_count last_paused_at
last_resumed_at paused_by pause_reason
""".split()


def test_dto_has_all_57_spec_fields_and_no_token():
    assert len(SPEC_FIELDS) == 57 == len(set(SPEC_FIELDS))
    fields = set(CMLWorkerDto.model_fields)
    assert set(SPEC_FIELDS) <= fields, set(SPEC_FIELDS) - fields
    assert {"collected_at", "errors"} <= fields
    assert not any("token" in name for name in fields)


ALLOWED = {ROOT / "cmltui" / "mapper.py"}
VALIDATE = {"model_validate", "model_validate_json", "model_validate_strings"}


def _violations(path: Path) -> list[str]:
    """DTO construction in any form: the class, copies, raw construction, validation.

    `model_copy` and `model_construct` are flagged on any receiver (DTO instances have arbitrary
    names); `model_validate*` on `CMLWorkerDto`, and on anything at all in a module that imports
    the DTO module, since there it could be a DTO.
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    imports_dto = "CMLWorkerDto" in source or "cmltui.api.dto" in source
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = ast.unparse(func)
        if name == "CMLWorkerDto" or name.endswith(".CMLWorkerDto") or name.endswith("__class__"):
            found.append(f"{path}:{node.lineno} calls {name}()")
        elif isinstance(func, ast.Attribute) and func.attr in {"model_copy", "model_construct"}:
            found.append(f"{path}:{node.lineno} calls {name}()")
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in VALIDATE
            and (imports_dto or "CMLWorkerDto" in name)
        ):
            found.append(f"{path}:{node.lineno} calls {name}()")
    return found


def test_no_module_but_the_mapper_builds_a_dto():
    problems = []
    for folder in ("cmltui", "tests", "benchmarks", "screenshots"):
        base = ROOT / folder
        for path in sorted(base.rglob("*.py")) if base.exists() else []:
            if path in ALLOWED or path == Path(__file__).resolve():
                continue
            problems.extend(_violations(path))
    assert problems == []


def test_the_ast_check_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from cmltui.api.dto import CMLWorkerDto\n"
        "a = CMLWorkerDto(id='x')\n"
        "b = a.model_copy(update={'cpu_utilization': 1})\n"
        "c = CMLWorkerDto.model_validate({})\n"
        "d = type(a).model_construct()\n"
        "e = a.__class__(**a.model_dump())\n"
    )
    assert len(_violations(bad)) == 5
