"""Pydantic models of the CML 2.9 REST responses that cmltui reads.

Written from `cml-openapi-2.9.json` (component schema names in brackets). Only what cmltui uses
is modelled; unknown fields are ignored and every field cmltui can live without is optional, so
a newer CML release that adds or drops fields does not break the monitor. Fields that cmltui
cannot do without are required, so that a body of the wrong shape fails validation (the client
turns that into a per-worker error).

The Smart Licensing token is a secret. `LicensingStatus` declares no token field and, on top of
that, removes every key that names a token (`token`, `id_token`, ...) from the raw licensing
object it keeps for display (`as_public_dict()`), at any depth, before storing it.
"""

from __future__ import annotations

from datetime import datetime
from math import isfinite
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    model_validator,
)

from cmltui.domain.secrets import without_secret_keys
from cmltui.domain.times import MAX_TIME_CHARS, parse_time

UtcDatetime = Annotated[datetime | None, BeforeValidator(parse_time)]
"""A CML time through the one parser: naive is UTC, and a time that is not usable (year 1 with
an offset, garbage) is None for that field instead of failing the whole response."""


class CMLModel(BaseModel):
    """Base: ignore unknown fields, never mutate parsed responses."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# --- /system_information (SystemInformation) ---------------------------------------------------


class SystemInformation(CMLModel):
    """Liveness, version and readiness; answered without authentication."""

    version: str
    ready: bool
    allow_ssh_pubkey_auth: bool | None = None
    oui: str | None = None


# --- /system_health (SystemHealth) -------------------------------------------------------------


class ComputeHealth(CMLModel):
    """Health of one compute host (ComputeHealth)."""

    hostname: str | None = None
    is_controller: bool | None = None
    valid: bool | None = None
    admission_state: str | None = None
    kvm_vmx_enabled: bool | None = None
    enough_cpus: bool | None = None
    lld_connected: bool | None = None
    lld_synced: bool | None = None
    libvirt: bool | None = None
    fabric: bool | None = None
    device_mux: bool | None = None
    refplat_images_available: bool | None = None
    docker_shim: bool | None = None


class ControllerHealth(CMLModel):
    """Health of the controller (ControllerHealth)."""

    valid: bool | None = None
    core_connected: bool | None = None
    nodes_loaded: bool | None = None
    images_loaded: bool | None = None


class SystemHealth(CMLModel):
    """Overall health; `valid` decides between available and degraded."""

    valid: bool | None
    is_licensed: bool | None = None
    is_enterprise: bool | None = None
    computes: dict[str, ComputeHealth] = Field(default_factory=dict)
    controller: ControllerHealth | None = None


# --- /system_stats (SystemStats) ---------------------------------------------------------------
#
# Read every cycle, so only the fields that `cml_system_info` and the gauges use are declared:
# the rest of the body (per-compute load averages, CPU models, orphans, controller disk) is
# skipped by the JSON parser instead of being built and then thrown away.


class CpuStats(CMLModel):
    """CPU count and load percent (CpuStats). A missing percent stays None, never 0."""

    count: int | None = None
    percent: float | None = None


class MemoryStats(CMLModel):
    """Memory in bytes (MemoryStats)."""

    used: float | None = None
    free: float | None = None
    total: float | None = None


class DiskStats(CMLModel):
    """Disk space in bytes (DiskStats)."""

    used: float | None = None
    free: float | None = None
    total: float | None = None


class ComputeHostStats(CMLModel):
    """Totals over all computes (ComputeHostStats, the `all` object)."""

    cpu: CpuStats | None = None
    memory: MemoryStats | None = None
    disk: DiskStats | None = None


class CpuHealthStats(CMLModel):
    """Per-compute CPU figures (CpuHealthStats): the two a monitor shows."""

    count: int | None = None
    percent: float | None = None


class DomInfo(CMLModel):
    """Node counts of one compute (DomInfo)."""

    total_nodes: int | None = None
    running_nodes: int | None = None
    allocated_cpus: int | None = None
    allocated_memory: int | None = None


class ComputeHostStatsWithDomInfo(CMLModel):
    """Statistics of one compute (ComputeHostStatsWithDomInfo)."""

    cpu: CpuHealthStats | None = None
    memory: MemoryStats | None = None
    disk: DiskStats | None = None
    dominfo: DomInfo | None = None


class ComputeHostWithStats(CMLModel):
    """One compute host and its statistics (ComputeHostWithStats)."""

    hostname: str | None = None
    is_controller: bool | None = None
    stats: ComputeHostStatsWithDomInfo | None = None


_NODE_KEYS = ("total_nodes", "running_nodes", "allocated_cpus", "allocated_memory")


class SystemStats(CMLModel):
    """Utilization of the whole system; `all` is what the utilization gauges use."""

    all: ComputeHostStats
    computes: dict[str, ComputeHostWithStats] = Field(default_factory=dict)

    def normalised(self) -> dict[str, Any]:
        """The fields a monitor shows (`cml_system_info`), node counts summed over computes.

        Every number is finite or None (a 0 stays 0); percentages are clamped to [0, 100].
        The client keeps this dict, not the model, for as long as the body does not change.
        """
        node_sums: dict[str, int] = {}
        per_compute: dict[str, Any] = {}
        for compute_id, compute in self.computes.items():
            stats = compute.stats or _NO_COMPUTE_STATS
            dominfo = stats.dominfo or _NO_DOMINFO
            for key in _NODE_KEYS:
                count = getattr(dominfo, key)
                if count is not None:
                    node_sums[key] = node_sums.get(key, 0) + count
            per_compute[compute_id] = {
                "hostname": compute.hostname,
                "is_controller": compute.is_controller is True,
                **_resource_fields(stats.cpu, stats.memory, stats.disk),
                "running_nodes": dominfo.running_nodes,
                "total_nodes": dominfo.total_nodes,
            }
        totals = self.all
        return {
            **_resource_fields(totals.cpu, totals.memory, totals.disk),
            **{key: node_sums.get(key) for key in _NODE_KEYS},
            "computes": per_compute,
        }


_NO_COMPUTE_STATS = ComputeHostStatsWithDomInfo()
_NO_DOMINFO = DomInfo()


def _finite(value: float | None) -> float | None:
    """Validated floats only: NaN and ±inf (which JSON can carry as 1e400) become None."""
    return value if value is None or isfinite(value) else None


def _percent(value: float | None) -> float | None:
    value = _finite(value)
    return None if value is None else min(100.0, max(0.0, value))


def _resource_fields(
    cpu: CpuStats | CpuHealthStats | None, memory: MemoryStats | None, disk: DiskStats | None
) -> dict[str, Any]:
    memory = memory or _NO_MEMORY
    disk = disk or _NO_DISK
    return {
        "cpu_count": cpu.count if cpu else None,
        "cpu_percent": _percent(cpu.percent) if cpu else None,
        "memory_total": _finite(memory.total),
        "memory_used": _finite(memory.used),
        "memory_free": _finite(memory.free),
        "disk_total": _finite(disk.total),
        "disk_used": _finite(disk.used),
        "disk_free": _finite(disk.free),
    }


_NO_MEMORY = MemoryStats()
_NO_DISK = DiskStats()


# --- /labs, /labs/{id} (LabResponse) -----------------------------------------------------------

LabIdList = TypeAdapter(list[str])
"""Validator for `GET /labs`: a JSON array of lab ids."""


class LabResponse(CMLModel):
    """One lab. `state` stays a plain string so that a new CML state does not break parsing."""

    id: str
    lab_title: str
    state: str
    owner: str | None = None
    owner_username: str | None = None
    owner_fullname: str | None = None
    node_count: int | None = None
    link_count: int | None = None
    lab_description: str | None = None
    created: UtcDatetime | None = None
    modified: UtcDatetime | None = None


# --- /licensing (LicensingStatus) --------------------------------------------------------------


class LicensingTimeInfo(CMLModel):
    """Times of a licensing request (LicensingTimeInfo)."""

    succeeded: UtcDatetime | None = None
    attempted: UtcDatetime | None = None
    scheduled: UtcDatetime | None = None
    status: str | None = None
    failure: str | None = None
    success: str | None = None


class Registration(CMLModel):
    """Registration status (Registration)."""

    status: str | None = None
    smart_account: str | None = None
    virtual_account: str | None = None
    register_time: LicensingTimeInfo | None = None
    renew_time: LicensingTimeInfo | None = None
    expires: UtcDatetime | None = None


class Authorization(CMLModel):
    """Authorization status (Authorization): EVAL, AUTHORIZED, OUT_OF_COMPLIANCE, ..."""

    status: str | None = None
    renew_time: LicensingTimeInfo | None = None
    expires: UtcDatetime | None = None


class ProductLicense(CMLModel):
    """Active product license (ProductLicense)."""

    active: str | None = None
    is_enterprise: bool | None = None


class LicensingFeature(CMLModel):
    """One licensed feature (LicensingFeature)."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    version: str | None = None
    in_use: int | None = None
    status: str | None = None
    min: int | None = None
    max: int | None = None
    minEndDate: UtcDatetime | None = None  # CML spells it so
    maxEndDate: UtcDatetime | None = None  # CML spells it so


class Udi(CMLModel):
    """Product instance identifier (Udi)."""

    hostname: str | None = None
    product_uuid: str | None = None


class LicensingTransportProxy(CMLModel):
    """HTTP proxy used for licensing (LicensingTransportProxy)."""

    server: str | None = None
    port: int | None = None


class Transport(CMLModel):
    """How CML talks to Smart Software Manager (Transport)."""

    ssms: str | None = None
    default_ssms: str | None = None
    proxy: LicensingTransportProxy | None = None


class LicensingStatus(CMLModel):
    """Licensing configuration and status, without the Smart Licensing token.

    Build it with `LicensingStatus.from_response(body)`, which also keeps the licensing object as
    CML returned it (minus every token-like key) for `as_public_dict()`. Validating a dict
    directly works too and keeps the same token-free copy.
    """

    registration: Registration | None = None
    authorization: Authorization | None = None
    product_license: ProductLicense | None = None
    features: list[LicensingFeature] | None = None
    udi: Udi | None = None
    transport: Transport | None = None
    reservation_mode: bool | None = None

    _public: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_response(cls, body: Any) -> LicensingStatus:
        """Validate a `/licensing` body; the raw token-free copy is kept for display."""
        return cls.model_validate(body, context={"raw": body})

    def model_post_init(self, context: Any, /) -> None:
        """Keep the token-free raw object; the token itself is never stored."""
        raw = context.get("raw") if isinstance(context, dict) else None
        if raw is None:
            raw = self.model_dump(mode="json", exclude_none=True)
        self._public = without_secret_keys(raw)

    def as_public_dict(self) -> dict[str, Any]:
        """The licensing object as CML returned it, minus any token (a fresh copy)."""
        return without_secret_keys(self._public)


# --- /users (UserResponse) ---------------------------------------------------------------------


class UserResponse(CMLModel):
    """A CML user, to name lab owners and active users."""

    id: str
    username: str
    fullname: str | None = None
    admin: bool | None = None
    email: str | None = None


# --- /telemetry/events (TelemetryEventResponse) ------------------------------------------------


class TelemetryEventResponse(CMLModel):
    """One telemetry event. `category` stays a string: CML adds categories over releases.

    An event whose time is not usable is kept with `timestamp` None and the raw value in
    `unusable_time`, so that one bad event is skipped rather than failing the whole list.
    """

    category: str
    timestamp: UtcDatetime
    data: dict[str, Any] = Field(default_factory=dict)

    _unusable_time: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_unusable_time(cls, body: Any, handler: Any) -> Any:
        event = handler(body)
        raw = body.get("timestamp") if isinstance(body, dict) else None
        if event.timestamp is None and raw is not None:
            event._unusable_time = _raw(raw)
        return event

    @property
    def unusable_time(self) -> str | None:
        """The time CML sent when it was not usable (None when it was)."""
        return self._unusable_time


def _raw(value: Any) -> str:
    return (value if isinstance(value, str) else repr(value))[:MAX_TIME_CHARS]


UserList = TypeAdapter(list[UserResponse])
TelemetryEventList = TypeAdapter(list[TelemetryEventResponse])
