"""What CML says about a worker, in an operator's words: the detail screen's readable lines.

CML's licensing, health and system objects arrive as nested JSON. The detail screen shows them
as sentences ("registered, authorized until 2027-02-25", "192 GiB memory, 68 % used"), and
keeps every raw field for a folded section at the end, each value with its unit (GiB, %,
a local time) and never a Python repr. Pure functions of a DTO; all values are outside data
and made visible where they become text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from cmltui.api.dto import CMLWorkerDto
from cmltui.domain.sanitize import finite_number
from cmltui.domain.times import UNKNOWN_TIME, parse_time
from cmltui.tui.fmt import (
    NONE,
    duration,
    gib,
    licence_style,
    licence_word,
    local_date,
    local_time,
)
from cmltui.tui.safe import shown

Fact = tuple[str, str, str]
"""(label, value, style): one readable line."""

MAX_RAW: Final = 400
"""Raw fields shown at most (outside data: a CML may send any number)."""
MAX_DEPTH: Final = 8
MAX_LIST: Final = 20

_BYTE_KEYS: Final = ("_total", "_used", "_free")
_HEALTH_CHECKS: Final = (
    "kvm_vmx_enabled",
    "enough_cpus",
    "lld_connected",
    "lld_synced",
    "libvirt",
    "fabric",
    "device_mux",
    "refplat_images_available",
    "docker_shim",
)
_CONTROLLER_CHECKS: Final = ("core_connected", "nodes_loaded", "images_loaded")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _word(value: Any, limit: int = 80) -> str:
    return shown(value, limit=limit) if value not in (None, "") else ""


def version_facts(dto: CMLWorkerDto, now: datetime) -> list[Fact]:
    """Service, version, readiness, uptime and the last sync, on one line each."""
    service = dto.service_status.value
    if dto.cml_ready is True:
        service += ", ready"
    elif dto.cml_ready is False:
        service += ", answers but not ready yet"
    facts: list[Fact] = [("Service", service, "bold")]
    version = f"CML {shown(dto.cml_version, limit=40)}" if dto.cml_version else NONE
    age = dto.fact_ages_seconds.get("cml_version")
    if dto.cml_version and age is not None and age >= 600:
        version += f" (read {duration(age)} ago)"
    facts.append(("Version", version, ""))
    if dto.cml_uptime_seconds is not None:
        facts.append(("Up", f"{duration(dto.cml_uptime_seconds)} since the last start", ""))
    synced = local_time(dto.cml_last_synced_at, seconds=True, now=now)
    facts.append(("Last synced", synced, ""))
    if dto.cml_stale_seconds is not None:
        facts.append(("Stale", f"data {duration(dto.cml_stale_seconds)} old", "yellow"))
    return facts


def licence_facts(dto: CMLWorkerDto) -> list[Fact]:
    """ "registered, authorized until 2027-02-25", the accounts, the nodes it covers."""
    word = licence_word(dto)
    info = dto.cml_license_info
    if info is None:
        return [("Licence", word or "not read yet", "dim" if word is None else "")]
    registration = _map(info.get("registration"))
    authorization = _map(info.get("authorization"))
    auth = _word(authorization.get("status")).lower().replace("_", " ")
    summary = word or NONE
    if word == UNKNOWN_TIME:
        summary += " (an expiry could not be read: see Errors)"
    if auth:
        summary += f", {auth}"
        until = parse_time(authorization.get("expires"))
        if until is not None:
            summary += f" until {local_date(until)}"
    style = licence_style(word)
    facts: list[Fact] = [("Licence", summary, style)]
    accounts = [_word(registration.get(k)) for k in ("smart_account", "virtual_account")]
    if any(accounts):
        facts.append(("Smart acct", " / ".join(a for a in accounts if a), ""))
    reg_until = parse_time(registration.get("expires"))
    reg = _word(registration.get("status")).lower()
    if reg:
        facts.append(
            ("Reg status", reg + (f" until {local_date(reg_until)}" if reg_until else ""), "")
        )
    product = _map(info.get("product_license"))
    if product.get("active"):
        facts.append(("Product", _word(product.get("active")).replace("_", " "), ""))
    for feature in _features(info):
        facts.append(("Feature", feature, ""))
    return facts


def _features(info: Mapping[str, Any]) -> Iterator[str]:
    features = info.get("features")
    if not isinstance(features, list):
        return
    for feature in features[:MAX_LIST]:
        feature = _map(feature)
        name = _word(feature.get("name") or feature.get("id"), limit=120) or "?"
        in_use = finite_number(feature.get("in_use"))
        top = finite_number(feature.get("max"))
        if in_use is not None:
            name += f": {in_use:.0f} in use" + (f" of {top:.0f}" if top is not None else "")
        yield name


def health_facts(dto: CMLWorkerDto) -> list[Fact]:
    """Valid or not, and only the checks that fail (a healthy CML takes two lines)."""
    health = dto.cml_system_health
    if not health:
        return [("Health", "not read yet", "dim")]
    words = [
        "valid" if health.get("valid") is True else "NOT VALID",
        "licensed" if health.get("is_licensed") is True else "not licensed",
    ]
    if health.get("is_enterprise") is True:
        words.append("enterprise")
    facts: list[Fact] = [("Health", ", ".join(words), "" if health.get("valid") else "yellow")]
    controller = _map(health.get("controller"))
    failing = [c.replace("_", " ") for c in _CONTROLLER_CHECKS if controller.get(c) is False]
    if controller and failing:
        facts.append(("Controller", f"failing: {', '.join(failing)}", "yellow"))
    elif controller:
        facts.append(("Controller", "ok", ""))
    computes = _map(health.get("computes"))
    for compute in list(computes.values())[:MAX_LIST]:
        compute = _map(compute)
        name = _word(compute.get("hostname"), limit=60) or "compute"
        role = " (controller)" if compute.get("is_controller") is True else ""
        state = _word(compute.get("admission_state")).lower() or "?"
        bad = [c.replace("_", " ") for c in _HEALTH_CHECKS if compute.get(c) is False]
        line = f"{name}{role}: {state}" + (f", failing: {', '.join(bad)}" if bad else "")
        facts.append(("Compute", line, "yellow" if bad else ""))
    return facts


def system_facts(dto: CMLWorkerDto) -> list[Fact]:
    """CPUs, memory and disk with their units, and the nodes and what they were given."""
    info = dto.cml_system_info
    if not info:
        return [("System", "not read yet", "dim")]
    facts: list[Fact] = []
    cpus = finite_number(info.get("cpu_count"))
    busy = finite_number(info.get("cpu_percent"))
    if cpus is not None or busy is not None:
        text = f"{cpus:.0f} CPUs" if cpus is not None else "CPUs ?"
        facts.append(("CPU", text + (f", {busy:.0f} % busy" if busy is not None else ""), ""))
    for resource, label in (("memory", "Memory"), ("disk", "Disk")):
        line = _resource_line(info, resource)
        if line:
            facts.append((label, line, ""))
    running = finite_number(info.get("running_nodes"))
    total = finite_number(info.get("total_nodes"))
    if running is not None or total is not None:
        text = f"{_count(running)} of {_count(total)} running"
        cpus_given = finite_number(info.get("allocated_cpus"))
        mem_given = finite_number(info.get("allocated_memory"))  # MiB, as CML counts it
        given = []
        if cpus_given is not None:
            given.append(f"{cpus_given:.0f} vCPUs")
        if mem_given is not None:
            given.append(gib(mem_given * 1024**2))
        if given:
            text += f"; given {' and '.join(given)}"
        facts.append(("Nodes", text, ""))
    computes = _map(info.get("computes"))
    if len(computes) > 1:
        for compute in list(computes.values())[:MAX_LIST]:
            compute = _map(compute)
            name = _word(compute.get("hostname"), limit=60) or "compute"
            memory = _resource_line(compute, "memory") or NONE
            facts.append(("Compute", f"{name}: memory {memory}", ""))
    return facts


def _count(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


def _resource_line(info: Mapping[str, Any], resource: str) -> str:
    """ "192 GiB, 131 GiB used (68 %)"."""
    total = finite_number(info.get(f"{resource}_total"))
    used = finite_number(info.get(f"{resource}_used"))
    if total is None and used is None:
        return ""
    text = gib(total)
    if used is not None:
        text += f", {gib(used)} used"
        if total:
            text += f" ({used / total * 100:.0f} %)"
    return text


def raw_facts(dto: CMLWorkerDto, now: datetime) -> list[tuple[str, str]]:
    """Every field of the licensing, health and system objects, flattened to `a.b.c` keys,
    each value with its unit; bounded (outside data)."""
    out: list[tuple[str, str]] = []
    for prefix, value in (
        ("licence", dto.cml_license_info),
        ("health", dto.cml_system_health),
        ("system", dto.cml_system_info),
    ):
        if value is not None:
            _flatten(out, prefix, value, now, 0)
    if len(out) > MAX_RAW:
        out = [*out[:MAX_RAW], ("…", "more fields, not shown")]
    return out


def _flatten(out: list[tuple[str, str]], key: str, value: Any, now: datetime, depth: int) -> None:
    if len(out) > MAX_RAW:
        return
    if depth > MAX_DEPTH:
        out.append((key, "…"))
    elif isinstance(value, Mapping):
        if not value:
            out.append((key, NONE))
        for name, item in list(value.items())[: MAX_RAW + 1]:
            _flatten(out, f"{key}.{shown(name, limit=80)}", item, now, depth + 1)
    elif isinstance(value, list):
        if not value:
            out.append((key, NONE))
        for index, item in enumerate(value[:MAX_LIST]):
            _flatten(out, f"{key}[{index}]", item, now, depth + 1)
        if len(value) > MAX_LIST:
            out.append((key, f"… and {len(value) - MAX_LIST} more"))
    else:
        out.append((key, raw_value(key, value, now)))


def raw_value(key: str, value: Any, now: datetime) -> str:
    """One raw value as text with its unit: bytes in GiB, percentages with %, times local,
    booleans as yes/no; never a Python repr."""
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        number = finite_number(value)
        if number is None:
            return "?"
        leaf = key.rsplit(".", 1)[-1]
        if leaf.endswith(_BYTE_KEYS) and not leaf.startswith("cpu"):
            return gib(number)
        if leaf.endswith("percent"):
            return f"{number:.1f} %"
        if leaf == "allocated_memory":
            return gib(number * 1024**2)
        return f"{number:g}" if abs(number) < 1e9 else f"{number:.3g}"
    text = str(value)
    when = parse_time(text) if len(text) >= 19 and text[4:5] == "-" else None
    if when is not None:
        return f"{local_date(when)} {local_time(when)}"
    return shown(text, limit=300)
