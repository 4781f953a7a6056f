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

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter

from cmltui.domain.secrets import without_secret_keys


def _assume_utc(value: datetime | None) -> datetime | None:
    """CML writes some timestamps without an offset; those are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_assume_utc)]


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
    """Per-compute CPU figures (CpuHealthStats)."""

    count: int | None = None
    percent: float | None = None
    model: str | None = None
    predicted: int | None = None
    load: list[float] | None = None


class DomInfo(CMLModel):
    """Node counts of one compute (DomInfo)."""

    total_nodes: int | None = None
    total_orphans: int | None = None
    running_nodes: int | None = None
    running_orphans: int | None = None
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


class ControllerDiskStats(CMLModel):
    """Controller disk usage (ControllerDiskStats)."""

    disk: DiskStats | None = None


class SystemStats(CMLModel):
    """Utilization of the whole system; `all` is what the utilization gauges use."""

    all: ComputeHostStats
    computes: dict[str, ComputeHostWithStats] = Field(default_factory=dict)
    controller: ControllerDiskStats | None = None


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
    """One telemetry event. `category` stays a string: CML adds categories over releases."""

    category: str
    timestamp: UtcDatetime
    data: dict[str, Any] = Field(default_factory=dict)


UserList = TypeAdapter(list[UserResponse])
TelemetryEventList = TypeAdapter(list[TelemetryEventResponse])
