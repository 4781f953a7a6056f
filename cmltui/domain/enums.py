"""The string enums of the worker's states; their values are what the DTO and JSON carry."""

from __future__ import annotations

from enum import StrEnum


class WorkerStatus(StrEnum):
    """The EC2 state name; anything unrecognised is `unknown` (never guessed as pending)."""

    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SHUTTING_DOWN = "shutting-down"
    TERMINATED = "terminated"
    UNKNOWN = "unknown"

    @classmethod
    def from_ec2(cls, state_name: str | None) -> WorkerStatus:
        try:
            return cls(state_name or "")
        except ValueError:
            return cls.UNKNOWN


class ServiceStatus(StrEnum):
    """Whether the CML API of a worker can be used."""

    UNAVAILABLE = "unavailable"
    STARTING = "starting"
    AVAILABLE = "available"
    DEGRADED = "degraded"
    ERROR = "error"


class LicenseStatus(StrEnum):
    UNREGISTERED = "unregistered"
    REGISTERED = "registered"
    EVALUATION = "evaluation"
    EXPIRED = "expired"
    INVALID = "invalid"


class PauseReason(StrEnum):
    IDLE_TIMEOUT = "idle_timeout"
    MANUAL = "manual"
    EXTERNAL = "external"


SYSTEM_ACTOR = "system"
"""The `paused_by`/`resumed_by` name used for cmltui's own automatic actions."""
