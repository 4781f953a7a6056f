"""The shape of a simulated fleet: which workers exist and how each one behaves.

Pure data, no I/O: `build_fleet(workers, seed)` always returns the same specs for the same
arguments, so tests can hand-write expectations about names, roles and states.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Fault(StrEnum):
    """Failures a simulated CML endpoint can be told to show."""

    REFUSE = "refuse"  # connection refused: the listening socket is closed
    HANG = "hang"  # accept and read the request, never answer
    SLOW = "slow"  # answer after `delay_s` seconds (wall time)
    HTTP_500 = "http_500"  # every call answers 500 with an Error body
    UNAUTHORIZED = "unauthorized"  # every call, /authenticate included, answers 401
    TOKEN_EXPIRY = "token_expiry"  # tokens expire after `ttl_s` seconds of clock time
    MALFORMED_JSON = "malformed_json"  # GETs answer truncated JSON
    WRONG_SHAPE = "wrong_shape"  # GETs answer valid JSON of the wrong shape
    TLS_FAILURE = "tls_failure"  # the port serves a certificate the client cannot trust


# One cycle of the mix. Each entry: role, name stem.
MIX: tuple[tuple[str, str], ...] = (
    ("busy", "cml-busy"),
    ("labs", "cml-labs"),
    ("idle", "cml-idle"),
    ("snooze", "cml-snooze"),
    ("nearpause", "cml-nearpause"),
    ("stopped", "cml-stopped"),
    ("down", "cml-down"),
    ("degraded", "cml-degraded"),
    ("noagent", "cml-noagent"),
    ("eval", "cml-eval"),
    ("expired", "cml-expired"),
    ("unreg", "cml-unreg"),
)
ROLES: tuple[str, ...] = tuple(role for role, _ in MIX)

# vCPUs and memory (GiB) of the instance types CML is usually run on.
INSTANCE_TYPES: dict[str, tuple[int, int]] = {
    "m5zn.metal": (48, 192),
    "c5.metal": (96, 192),
    "m5.metal": (96, 384),
    "c5n.metal": (72, 192),
    "m5.4xlarge": (16, 64),
    "m5.8xlarge": (32, 128),
}

# AMIs registered in moto: key -> (name, description).
AMIS: dict[str, tuple[str, str]] = {
    "cml-2.9.0": (
        "cml-2.9.0-controller-20250612-x86_64",
        "Cisco Modeling Labs 2.9.0 controller (all-in-one), Ubuntu 24.04",
    ),
    "cml-2.9.1": (
        "cml-2.9.1-controller-20250904-x86_64",
        "Cisco Modeling Labs 2.9.1 controller (all-in-one), Ubuntu 24.04",
    ),
}

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True)
class SimWorkerSpec:
    """Everything that makes one simulated worker what it is, fixed at fleet build time.

    Times are given as seconds before the fleet's start instant (`t0`), so the same spec works
    under any clock.
    """

    index: int
    name: str
    role: str
    instance_type: str
    ami_key: str
    cml_version: str
    license: str  # registered | eval | expired | unregistered
    initial_state: str  # running | stopped
    launched_ago_s: float  # last launch or start before t0
    created_ago_s: float  # root volume attach time before t0 (survives stop/start)
    stopped_ago_s: float | None  # for workers stopped at t0
    last_activity_ago_s: float  # newest real activity in the history before t0
    activity_rate: float  # probability of user activity in each simulated minute
    lab_count: int
    compute_count: int
    health_valid: bool
    has_agent: bool  # CWAgent metrics exist in CloudWatch
    default_fault: Fault | None
    idle_detection_tag: str | None  # value of `cmltui:idle-detection`, None = absent
    created_by: str | None  # value of `cmltui:created-by`, None = absent
    history_tags: tuple[tuple[str, str], ...]  # pause/resume history, as ago-seconds strings
    cpu_base: float
    cpu_amp: float
    mem_base: float
    disk_base: float
    phase: float
    region_index: int = 0  # which of the fleet's regions (0 = the first)


_CPU = {
    "busy": (60.0, 15.0),
    "labs": (55.0, 12.0),
    "idle": (3.0, 1.5),
    "snooze": (4.0, 2.0),
    "nearpause": (6.0, 3.0),
    "stopped": (4.0, 2.0),
    "down": (20.0, 8.0),
    "degraded": (30.0, 10.0),
    "noagent": (25.0, 10.0),
    "eval": (18.0, 8.0),
    "expired": (12.0, 6.0),
    "unreg": (10.0, 5.0),
}
_RATE = {
    "busy": 0.55,
    "labs": 0.6,
    "degraded": 0.25,
    "noagent": 0.25,
    "eval": 0.25,
    "expired": 0.2,
    "unreg": 0.2,
    "down": 0.2,
}
_LICENSE = {"eval": "eval", "expired": "expired", "unreg": "unregistered"}
_LAST_ACTIVITY = {
    "idle": 3 * HOUR,
    "snooze": 2 * HOUR + 20 * 60,
    "nearpause": 50 * 60,
    "stopped": 5 * HOUR,
}
_LABS = {"labs": 15, "idle": 2, "snooze": 3, "nearpause": 2, "stopped": 2}


def _instance_type(rng: random.Random, role: str) -> str:
    if role == "labs":
        return rng.choice(("c5.metal", "m5.metal"))
    if role in ("eval", "unreg"):
        return rng.choice(("m5.4xlarge", "m5.8xlarge"))
    return rng.choice(("m5zn.metal", "c5.metal", "m5.metal", "c5n.metal"))


def _spec(
    index: int, cycle: int, role: str, name: str, rng: random.Random, region_index: int
) -> SimWorkerSpec:
    launched = {
        "idle": 2 * DAY + rng.uniform(0, 6) * HOUR,
        "snooze": 20 * 60.0,
        "nearpause": 5 * HOUR,
        "stopped": DAY,
    }.get(role, rng.uniform(2, 9) * HOUR)
    created = launched + rng.uniform(1, 30) * DAY if role != "idle" else launched
    history: tuple[tuple[str, str], ...] = ()
    if role == "snooze":
        # Auto-paused by the idle checker 80 min ago, resumed by an operator 20 min ago.
        history = (
            ("cmltui:last-paused-at", str(80 * 60)),
            ("cmltui:last-paused-by", "system"),
            ("cmltui:pause-reason", "idle_timeout"),
            ("cmltui:auto-pause-count", "1"),
            ("cmltui:last-resumed-at", str(20 * 60)),
            ("cmltui:last-resumed-by", "alice"),
            ("cmltui:manual-resume-count", "1"),
        )
    cpu_base, cpu_amp = _CPU[role]
    busy = role in ("busy", "labs")
    instance_type = _instance_type(rng, role)
    ami_key = "cml-2.9.0" if rng.random() < 0.7 else "cml-2.9.1"
    return SimWorkerSpec(
        index=index,
        name=name,
        role=role,
        instance_type=instance_type,
        ami_key=ami_key,
        cml_version=ami_key.removeprefix("cml-"),  # the version the AMI installs
        license=_LICENSE.get(role, "registered"),
        initial_state="stopped" if role == "stopped" else "running",
        launched_ago_s=launched,
        created_ago_s=created,
        stopped_ago_s=4 * HOUR if role == "stopped" else None,
        last_activity_ago_s=_LAST_ACTIVITY.get(role, rng.uniform(30, 200)),
        activity_rate=_RATE.get(role, 0.0),
        lab_count=_LABS.get(role, rng.randint(3, 6) if busy or cycle % 2 == 0 else 4),
        compute_count=rng.randint(1, 3),
        health_valid=role != "degraded",
        has_agent=role != "noagent",
        default_fault=Fault.REFUSE if role == "down" else None,
        idle_detection_tag="disabled" if role == "labs" and cycle == 0 else None,
        created_by=rng.choice(("alice", "bob", "ops-automation")) if index % 3 == 0 else None,
        history_tags=history,
        cpu_base=cpu_base + rng.uniform(-3, 3),
        cpu_amp=cpu_amp,
        mem_base=(45.0 if busy else 25.0) + rng.uniform(-5, 5),
        disk_base=30.0 + rng.uniform(0, 25),
        phase=rng.uniform(0, 6.283),
        region_index=region_index,
    )


def build_fleet(workers: int = 12, seed: int = 0, regions: int = 1) -> list[SimWorkerSpec]:
    """The fleet's specs, numbered from 01.

    Workers are split into `regions` contiguous blocks of near-equal size, and each block runs
    through the 12-role mix from its start, so every region gets the same mix (the whole mix
    once it holds 12 or more workers).
    """
    if workers < 0:
        raise ValueError("workers must be >= 0")
    if regions < 1:
        raise ValueError("regions must be >= 1")
    width = max(2, len(str(workers)))
    base, extra = divmod(workers, regions)
    specs = []
    index = 0
    for region_index in range(regions):
        for position in range(base + (1 if region_index < extra else 0)):
            role, stem = MIX[position % len(MIX)]
            rng = random.Random(f"cmltui-sim:{seed}:{index}")
            name = f"{stem}-{index + 1:0{width}d}"
            cycle = position // len(MIX)
            specs.append(_spec(index, cycle, role, name, rng, region_index))
            index += 1
    return specs
