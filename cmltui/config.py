"""Configuration: a pydantic model of the TOML file (SPEC §6).

Precedence is flags > environment (`CMLTUI_*` and the standard `AWS_*`) > file > defaults. Any
problem becomes a `ConfigError` whose one-line message names the file and the key.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cmltui import keymap
from cmltui.domain.idle import IdleSettings
from cmltui.domain.intervals import MAX_INTERVAL, MIN_INTERVAL
from cmltui.domain.tags import DEFAULT_DISCOVERY_FILTERS
from cmltui.keymap import ActionSpec

APP_NAME = "cmltui"

DEFAULT_PRICES: dict[str, float] = {
    # On-demand USD per hour, us-east-1, Linux. Override or extend in the `[prices]` table.
    "m5zn.metal": 3.9641,
    "m5zn.12xlarge": 3.9641,
    "m5zn.6xlarge": 1.982,
    "c5.metal": 4.08,
    "c5.24xlarge": 4.08,
    "c5.18xlarge": 3.06,
    "c5.9xlarge": 1.53,
    "c5n.metal": 3.888,
    "c5n.18xlarge": 3.888,
    "m5.metal": 4.608,
    "m5.24xlarge": 4.608,
    "m5.12xlarge": 2.304,
    "m5.8xlarge": 1.536,
    "m5.4xlarge": 0.768,
    "m5.2xlarge": 0.384,
    "m6i.metal": 6.144,
    "m7i.metal-24xl": 4.8384,
    "c6i.metal": 5.44,
    "r5.metal": 6.048,
    "z1d.metal": 4.464,
    "i3.metal": 4.992,
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Ec2Filter(_Section):
    Name: str
    Values: list[str]


class CredentialOverride(_Section):
    """Per-worker CML credentials for workers whose tag matches."""

    tag: str
    value: str | None = None  # None: any value of the tag
    username: str | None = None
    password_env: str | None = None
    password_command: str | None = None


class AwsConfig(_Section):
    profile: str | None = None
    regions: list[str] = Field(default_factory=lambda: ["us-east-1"], min_length=1)
    endpoint_url: str | None = None
    filters: list[Ec2Filter] = Field(
        default_factory=lambda: [Ec2Filter.model_validate(f) for f in DEFAULT_DISCOVERY_FILTERS]
    )
    retry_mode: Literal["standard", "adaptive"] = "standard"
    max_attempts: int = Field(default=5, ge=1, le=20)


class CmlConfig(_Section):
    username: str = "admin"
    password_env: str = "CMLTUI_CML_PASSWORD"
    password_command: str | None = None
    verify_tls: bool = True
    ca_bundle: str | None = None
    address: Literal["public", "private", "public_dns", "private_dns"] = "public"
    request_timeout: float = Field(default=5.0, gt=0, le=120)
    concurrency: int = Field(default=32, ge=1, le=1024)
    overrides: list[CredentialOverride] = Field(default_factory=list)


class IntervalsConfig(_Section):
    collector: float = Field(default=10.0, ge=MIN_INTERVAL, le=MAX_INTERVAL)
    activity: float = Field(default=300.0, ge=10)
    cloudwatch: float = Field(default=300.0, ge=60)
    licensing: float = Field(default=3600.0, ge=60)
    users: float = Field(default=600.0, ge=30)


class IdleConfig(_Section):
    enabled: bool = True
    default_per_worker: Literal["enabled", "disabled"] = "enabled"
    auto_pause: bool = False
    timeout_minutes: float = Field(default=60.0, gt=0)
    snooze_minutes: float = Field(default=60.0, ge=0)
    boot_grace_minutes: float = Field(default=10.0, ge=0)
    settle_seconds: float = Field(default=30.0, ge=0)


class ThresholdsConfig(_Section):
    careful: float = Field(default=50.0, ge=0, le=100)
    warning: float = Field(default=70.0, ge=0, le=100)
    critical: float = Field(default=90.0, ge=0, le=100)


class UiConfig(_Section):
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    history_points: int = Field(default=60, ge=5, le=1000)
    theme: str | None = None
    """A Textual theme name; the dashboard saves the one chosen in the palette here."""
    ssh: str = "ssh -p 1122 sysadmin@{host}"
    """The worker's ssh command line (detail screen, copy menu); `{host}` is its address."""

    @field_validator("ssh")
    @classmethod
    def _has_host(cls, value: str) -> str:
        if "{host}" not in value:
            raise ValueError("must contain {host}")
        value.format(host="h")  # no other placeholders
        return value


def _keys_field(spec: ActionSpec) -> Any:
    return (str, Field(default=spec.keys, description=spec.description))


class _KeysBase(_Section):
    """`[keys]`: one entry per action of `cmltui.keymap.ACTIONS`; no key serves two actions."""

    @field_validator("*", mode="after")
    @classmethod
    def _names(cls, value: str) -> str:
        if not keymap.split_keys(value):
            raise PydanticCustomError("no_key", "no key given")
        return keymap.normalise(value)

    @model_validator(mode="after")
    def _no_collisions(self) -> _KeysBase:
        for key, first, second in keymap.collisions(self.model_dump()):
            raise PydanticCustomError(
                "key_collision",
                "'{key}' is the key of both {first} and {second}",
                {"key": keymap.pretty(key), "first": first, "second": second},
            )
        return self


KeysConfig = create_model(  # type: ignore[call-overload]
    "KeysConfig",
    __base__=_KeysBase,
    **{spec.id: _keys_field(spec) for spec in keymap.ACTIONS},
)


class Config(_Section):
    read_only: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    aws: AwsConfig = Field(default_factory=AwsConfig)
    cml: CmlConfig = Field(default_factory=CmlConfig)
    intervals: IntervalsConfig = Field(default_factory=IntervalsConfig)
    idle: IdleConfig = Field(default_factory=IdleConfig)
    ui: UiConfig = Field(default_factory=UiConfig)
    prices: dict[str, float] = Field(default_factory=dict)
    keys: KeysConfig = Field(default_factory=KeysConfig)  # type: ignore[valid-type]

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def idle_settings(self) -> IdleSettings:
        return IdleSettings(
            enabled=self.idle.enabled,
            default_per_worker=self.idle.default_per_worker == "enabled",
            auto_pause=self.idle.auto_pause,
            timeout=timedelta(minutes=self.idle.timeout_minutes),
            snooze=timedelta(minutes=self.idle.snooze_minutes),
            check_interval=timedelta(seconds=self.intervals.activity),
        )

    def price_table(self) -> dict[str, float]:
        return {**DEFAULT_PRICES, **self.prices}


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line the user sees."""


# Environment variables and the config keys they set (dotted paths).
ENV_KEYS: dict[str, str] = {
    "CMLTUI_PROFILE": "aws.profile",
    "AWS_PROFILE": "aws.profile",
    "CMLTUI_REGIONS": "aws.regions",
    "AWS_REGION": "aws.regions",
    "AWS_DEFAULT_REGION": "aws.regions",
    "CMLTUI_ENDPOINT_URL": "aws.endpoint_url",
    "AWS_ENDPOINT_URL": "aws.endpoint_url",
    "CMLTUI_INTERVAL": "intervals.collector",
    "CMLTUI_READ_ONLY": "read_only",
    "CMLTUI_LOG_LEVEL": "log_level",
    "CMLTUI_CML_USERNAME": "cml.username",
    "CMLTUI_CML_CA_BUNDLE": "cml.ca_bundle",
    "CMLTUI_CML_VERIFY_TLS": "cml.verify_tls",
    "CMLTUI_AUTO_PAUSE": "idle.auto_pause",
}
_LIST_KEYS = {"aws.regions"}


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def resolve_config_path(flag_path: str | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    """Where the file is, and whether the user named it (a named file must exist)."""
    if flag_path:
        return Path(flag_path).expanduser(), True
    if env.get("CMLTUI_CONFIG"):
        return Path(env["CMLTUI_CONFIG"]).expanduser(), True
    return default_config_path(), False


def load_config(
    flag_path: str | None = None,
    *,
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read the file, overlay environment then flags (dotted keys), and validate once."""
    env = os.environ if env is None else env
    path, named = resolve_config_path(flag_path, env)
    data = _read_toml(path, required=named)
    origins: dict[str, str] = {}
    for var, key in ENV_KEYS.items():
        # Earlier names in ENV_KEYS win over later ones for the same key (CMLTUI_* first).
        if env.get(var) and not _is_set_by(key, var, env):
            _set_dotted(data, key, _env_value(key, env[var]))
            origins[key] = f"environment variable {var}"
    for key, value in (flags or {}).items():
        if value is not None:
            _set_dotted(data, key, value)
            origins[key] = "command-line option"
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(str(path), origins, exc)) from None


def resolve_password(config: CmlConfig | CredentialOverride, env: Mapping[str, str]) -> str | None:
    """The CML password from a command or an environment variable; never from the file."""
    command = config.password_command
    if command:
        try:
            result = subprocess.run(
                shlex.split(command), capture_output=True, text=True, timeout=30, check=True
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(f"cml.password_command failed: {type(exc).__name__}") from None
        return result.stdout.rstrip("\n")
    name = config.password_env
    return env.get(name) if name else None


def _is_set_by(key: str, var: str, env: Mapping[str, str]) -> bool:
    """True when a higher-priority variable for the same key is set."""
    for other, other_key in ENV_KEYS.items():
        if other == var:
            return False
        if other_key == key and env.get(other):
            return True
    return False


def _env_value(key: str, raw: str) -> Any:
    if key in _LIST_KEYS:
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: config file not found") from None
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[leaf] = value


def _one_line(path: str, origins: Mapping[str, str], exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    source = next(
        (
            origin
            for prefix, origin in origins.items()
            if key == prefix or key.startswith(prefix + ".")
        ),
        path,
    )
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    else:
        message = error["msg"]
        if "input" in error and not isinstance(error["input"], dict | list):
            message += f" (got {error['input']!r})"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {key}: {message}{suffix}"


def save_ui_theme(path: Path, theme: str) -> None:
    """Write `[ui] theme` into the config file, keeping its comments and other keys (tomlkit)."""
    import tomlkit

    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else None
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if document is None:
        document = tomlkit.document()
    ui = document.get("ui")
    if ui is None:
        ui = tomlkit.table()
        document["ui"] = ui
    ui["theme"] = theme
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
