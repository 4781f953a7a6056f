"""What each action of the direct backend sends, in one line (`--dry-run` says it)."""

from __future__ import annotations

from cmltui.domain.rules import ActionKind
from cmltui.domain.tags import IDLE_DETECTION_TAG, IDLE_DISABLED, IDLE_ENABLED


def request_line(
    kind: ActionKind,
    instance_id: str,
    region: str,
    cml_url: str,
    *,
    lab_id: str | None = None,
    enable: bool | None = None,
) -> str:
    lab = f"/api/v0/labs/{lab_id or '{lab_id}'}"
    value = "…" if enable is None else IDLE_ENABLED if enable else IDLE_DISABLED
    return {
        "toggle_idle_detection": f"EC2 CreateTags {IDLE_DETECTION_TAG}={value} on {instance_id} "
        f"({region})",
        "pause": f"EC2 StopInstances {instance_id} ({region}; one call per region), then the "
        "cmltui history tags",
        "auto_pause": f"EC2 StopInstances {instance_id} ({region}), then the history tags",
        "resume": f"EC2 StartInstances {instance_id} ({region}), then the cmltui history tags",
        "stop_lab": f"CML PUT {lab}/stop at {cml_url}",
        "start_lab": f"CML PUT {lab}/start at {cml_url}",
        "wipe_lab": f"CML PUT {lab}/wipe at {cml_url}",
        "register_licence": f"CML POST /api/v0/licensing/registration at {cml_url} "
        "(the token in the body only)",
        "deregister_licence": f"CML DELETE /api/v0/licensing/deregistration at {cml_url}",
    }[kind]
