"""Configuration: a pydantic model of the TOML file (README, "Configuration").

Precedence is flags > environment (`CMLTUI_*` and the standard `AWS_*`) > file > defaults. Any
problem becomes a `ConfigError` whose one-line message names the file and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cmltui import keymap, paths
from cmltui.domain.accounts import ACCOUNT_NAME
from cmltui.domain.idle import IdleSettings
from cmltui.domain.intervals import MAX_INTERVAL, MIN_INTERVAL
from cmltui.domain.prices import MAX_PRICE, MIN_PRICE, ConfiguredPrices, StaticPrices
from cmltui.domain.tags import DEFAULT_DISCOVERY_FILTERS
from cmltui.keymap import ActionSpec
from cmltui.localfile import read_bounded

APP_NAME = paths.APP_NAME

PositivePrice = Annotated[float, Field(ge=MIN_PRICE, le=MAX_PRICE, allow_inf_nan=False)]
"""USD per hour, inside the band every price source shares (`cmltui.domain.prices`)."""


class _Section(BaseModel):
    # Every number from outside is finite: `inf` and `nan` are refused like any out-of-range value.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


MINUTES_PER_WEEK = 7 * 24 * 60
SECONDS_PER_DAY = 24 * 3600
MIB = 1024 * 1024


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


ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$"
EXTERNAL_ID = r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$"
MAX_ACCOUNTS = 32


class AwsAccount(_Section):
    """One AWS account of the fleet (`[[aws.accounts]]`): its credentials and its regions.

    With neither `profile` nor `role_arn` it uses what `aws.profile` (or the standard chain)
    gives; with `role_arn` it assumes that role with them (or with its own `profile`).
    """

    name: str = Field(pattern=f"^{ACCOUNT_NAME.pattern}$")
    profile: str | None = None
    role_arn: str | None = Field(default=None, pattern=ROLE_ARN)
    external_id: str | None = Field(default=None, pattern=EXTERNAL_ID)
    regions: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _external_id_needs_a_role(self) -> AwsAccount:
        if self.external_id is not None and self.role_arn is None:
            raise ValueError("external_id is only used with role_arn")
        return self


@dataclass(frozen=True)
class AccountSource:
    """What one account's AWS source is built from; `name` is None for the default account."""

    name: str | None
    profile: str | None
    regions: tuple[str, ...]
    role_arn: str | None = None
    external_id: str | None = None


class AwsConfig(_Section):
    profile: str | None = None
    regions: list[str] = Field(default_factory=lambda: ["us-east-1"], min_length=1)
    endpoint_url: str | None = None
    filters: list[Ec2Filter] = Field(
        default_factory=lambda: [Ec2Filter.model_validate(f) for f in DEFAULT_DISCOVERY_FILTERS]
    )
    retry_mode: Literal["standard", "adaptive"] = "standard"
    max_attempts: int = Field(default=5, ge=1, le=20)
    pricing_api: bool = True  # read prices per region from the AWS Pricing API
    accounts: list[AwsAccount] = Field(default_factory=list, max_length=MAX_ACCOUNTS)
    """Several accounts as one fleet; empty: the one account `profile` (or the chain) gives."""

    @field_validator("accounts")
    @classmethod
    def _unique_names(cls, accounts: list[AwsAccount]) -> list[AwsAccount]:
        names = [account.name for account in accounts]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"account name {name!r} is used twice")
        return accounts

    def account_sources(self) -> list[AccountSource]:
        """One source per account, each with its own credentials and regions (the one rule
        of what an account without its own profile or regions uses)."""
        if not self.accounts:
            return [AccountSource(None, self.profile, tuple(self.regions))]
        return [
            AccountSource(
                account.name,
                account.profile or self.profile,
                tuple(account.regions or self.regions),
                account.role_arn,
                account.external_id,
            )
            for account in self.accounts
        ]

    def all_regions(self) -> tuple[str, ...]:
        """Every region of every account, each once, in the config's order."""
        return tuple(dict.fromkeys(r for source in self.account_sources() for r in source.regions))


class CmlConfig(_Section):
    username: str = "admin"
    password_env: str = "CMLTUI_CML_PASSWORD"
    password_command: str | None = None
    verify_tls: bool = True
    ca_bundle: str | None = None
    address: Literal["public", "private", "public_dns", "private_dns"] = "public"
    request_timeout: float = Field(default=5.0, ge=0.5, le=120)
    concurrency: int = Field(default=32, ge=1, le=1024)
    overrides: list[CredentialOverride] = Field(default_factory=list)
    allowed_hosts: list[str] = Field(default_factory=list)
    """Hosts (shell-style patterns) a `cmltui:cml-url` tag may name besides the instance's own."""
    allow_http_hosts: list[str] = Field(default_factory=list)
    """Hosts (shell-style patterns) that may receive the password over plain http://."""
    worker_deadline: float = Field(default=10.0, ge=1, le=600)
    """All of one worker's CML calls in one cycle end by then; the snapshot does not wait longer."""
    max_response_bytes: int = Field(default=4 * MIB, ge=64 * 1024, le=256 * MIB)
    max_json_depth: int = Field(default=32, ge=8, le=512)
    password_command_timeout: float = Field(default=30.0, ge=1, le=600)

    @field_validator("ca_bundle")
    @classmethod
    def _readable_ca_bundle(cls, value: str | None) -> str | None:
        if value is not None:
            check_ca_bundle(value)
        return value


class IntervalsConfig(_Section):
    """Seconds between reads. `collector` is the cycle; the rest are slower cadences.

    Every cycle reads `/system_stats` per running worker and the EC2 listing; the others are
    read when their cadence is due, and at once when something suggests a change (README).
    """

    collector: float = Field(default=10.0, ge=MIN_INTERVAL, le=MAX_INTERVAL)
    activity: float = Field(default=300.0, ge=10, le=SECONDS_PER_DAY)
    cloudwatch: float = Field(default=300.0, ge=60, le=SECONDS_PER_DAY)
    licensing: float = Field(default=3600.0, ge=60, le=7 * SECONDS_PER_DAY)
    users: float = Field(default=600.0, ge=30, le=SECONDS_PER_DAY)
    health: float = Field(default=120.0, ge=2, le=3600)
    system_information: float = Field(default=300.0, ge=2, le=SECONDS_PER_DAY)
    lab_ids: float = Field(default=120.0, ge=2, le=3600)
    lab_details: float = Field(default=900.0, ge=10, le=SECONDS_PER_DAY)
    status_checks: float = Field(default=60.0, ge=2, le=3600)


class IdleConfig(_Section):
    enabled: bool = True
    default_per_worker: Literal["enabled", "disabled"] = "enabled"
    auto_pause: bool = False
    timeout_minutes: float = Field(default=60.0, ge=1, le=MINUTES_PER_WEEK)
    snooze_minutes: float = Field(default=60.0, ge=0, le=MINUTES_PER_WEEK)
    boot_grace_minutes: float = Field(default=10.0, ge=0, le=24 * 60)
    settle_seconds: float = Field(default=30.0, ge=0, le=3600)


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
        """Textual key names (`q`, `ctrl+p`, `question_mark`, `f1`; `?` and `/` alike),
        comma-separated and bounded."""
        names = keymap.normalise(value)
        if not _KEY_NAMES.fullmatch(names):
            raise ValueError("not a key name (letters, digits, _ + - joined by commas)")
        return names

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


_KEY_NAMES = re.compile(r"[A-Za-z0-9_+\-]{1,32}(,[A-Za-z0-9_+\-]{1,32}){0,7}")


class SourceConfig(_Section):
    """Where the fleet comes from: AWS directly (default), or a CML Cloud Manager (`ccm`)."""

    kind: Literal["aws", "ccm"] = "aws"
    verify_tls: bool = True  # before `url`, whose check reads it
    url: str | None = None
    token_env: str | None = "CMLTUI_CCM_TOKEN"
    token_command: str | None = None
    token_command_timeout: float = Field(default=30.0, ge=1, le=600)
    ca_bundle: str | None = None
    regions: list[str] | None = None  # Cloud Manager regions to list; default: aws.regions
    request_timeout: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        """The bearer token goes in clear over http://: only when TLS checks are opted out."""
        if value is None:
            return value
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https://")
        if value.startswith("http://") and info.data.get("verify_tls", True):
            raise ValueError(
                "http:// would send the token in clear; use https:// "
                "(or opt out with source.verify_tls = false)"
            )
        return value.rstrip("/")


class Config(_Section):
    read_only: bool = False
    source: SourceConfig = Field(default_factory=SourceConfig)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    aws: AwsConfig = Field(default_factory=AwsConfig)
    cml: CmlConfig = Field(default_factory=CmlConfig)
    intervals: IntervalsConfig = Field(default_factory=IntervalsConfig)
    idle: IdleConfig = Field(default_factory=IdleConfig)
    ui: UiConfig = Field(default_factory=UiConfig)
    # `"type" = 4.0` prices a type in every region; `[prices."eu-west-1"]` in one region.
    prices: dict[str, PositivePrice | dict[str, PositivePrice]] = Field(default_factory=dict)
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

    def configured_prices(self) -> ConfiguredPrices:
        return ConfiguredPrices.from_config(self.prices)

    def price_table(self) -> StaticPrices:
        """Config over the bundled table, without AWS (the Pricing API is in `pricing`)."""
        return StaticPrices(self.configured_prices())


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line the user sees."""


def check_ca_bundle(path: str) -> None:
    """Raise ValueError (one line) unless `path` is a readable file of PEM certificates."""
    import ssl  # only with a bundle configured: the dashboard's first frame does not wait for it

    bundle = Path(path).expanduser()
    if not bundle.is_file():
        raise ValueError(f"CA bundle {path} not found")
    try:
        ssl.create_default_context(cafile=str(bundle))
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or "unreadable"
        raise ValueError(f"CA bundle {path} is not usable ({reason})") from None


# Environment variables and the config keys they set (dotted paths).
ENV_KEYS: dict[str, str] = {
    "CMLTUI_PROFILE": "aws.profile",
    "AWS_PROFILE": "aws.profile",
    "CMLTUI_REGIONS": "aws.regions",
    "CMLTUI_ENDPOINT_URL": "aws.endpoint_url",
    "AWS_ENDPOINT_URL": "aws.endpoint_url",
    "CMLTUI_INTERVAL": "intervals.collector",
    "CMLTUI_READ_ONLY": "read_only",
    "CMLTUI_LOG_LEVEL": "log_level",
    "CMLTUI_CML_USERNAME": "cml.username",
    "CMLTUI_CML_CA_BUNDLE": "cml.ca_bundle",
    "CMLTUI_CML_ALLOWED_HOSTS": "cml.allowed_hosts",
    "CMLTUI_CML_VERIFY_TLS": "cml.verify_tls",
    "CMLTUI_AUTO_PAUSE": "idle.auto_pause",
    "CMLTUI_SOURCE": "source.kind",
    "CMLTUI_CCM_URL": "source.url",
    "CMLTUI_CCM_CA_BUNDLE": "source.ca_bundle",
}
_LIST_KEYS = {"aws.regions", "cml.allowed_hosts"}
# The standard AWS variables give the default region only when no region list is configured.
DEFAULT_REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
# Command-line options and the config keys they set, so an error names the option.
FLAG_NAMES: dict[str, str] = {
    "aws.profile": "--profile",
    "aws.regions": "--region",
    "intervals.collector": "--interval",
    "read_only": "--read-only",
    "log_level": "--log-level",
}


def default_config_path() -> Path:
    return paths.config_file()


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
    aws_section = data.get("aws")
    if not (isinstance(aws_section, dict) and "regions" in aws_section):
        for var in DEFAULT_REGION_VARS:
            if env.get(var):
                _set_dotted(data, "aws.regions", [env[var].strip()])
                origins["aws.regions"] = f"environment variable {var}"
                break
    for var, key in ENV_KEYS.items():
        # Earlier names in ENV_KEYS win over later ones for the same key (CMLTUI_* first).
        if env.get(var) and not _is_set_by(key, var, env):
            _set_dotted(data, key, _env_value(key, env[var]))
            origins[key] = f"environment variable {var}"
    for key, value in (flags or {}).items():
        if value is not None:
            _set_dotted(data, key, value)
            origins[key] = f"option {FLAG_NAMES.get(key, key)}"
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(str(path), origins, exc)) from None
    if env.get("AWS_CA_BUNDLE"):  # botocore would fail every call later, with a long message
        try:
            check_ca_bundle(env["AWS_CA_BUNDLE"])
        except ValueError as exc:
            raise ConfigError(f"environment variable AWS_CA_BUNDLE: {exc}") from None
    return config


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


MAX_CONFIG_BYTES = 1_000_000
"""A config file is a few kilobytes: a larger one is refused rather than read."""


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        raw = read_bounded(path, MAX_CONFIG_BYTES)  # never a FIFO or a device
        text = raw.decode("utf-8-sig")  # a leading byte-order mark is accepted
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: cannot read config file: it is a directory") from None
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


def _key_of(loc: tuple[int | str, ...]) -> str:
    """The config key of an error, without pydantic's union-member tags (`constrained-float`)."""
    parts = [str(p) for p in loc if not str(p).startswith(_UNION_TAGS)]
    return ".".join(parts) or "(top level)"


_UNION_TAGS = ("constrained-", "dict[", "list[", "function-", "union[")


def _one_line(path: str, origins: Mapping[str, str], exc: ValidationError) -> str:
    errors = exc.errors()
    error = errors[0]
    key = _key_of(error["loc"])
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
        message = error["msg"].removeprefix("Value error, ")
        if "input" in error and not isinstance(error["input"], dict | list):
            message += f" (got {error['input']!r})"
    more = len({_key_of(e["loc"]) for e in errors}) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {key}: {message}{suffix}"


def save_ui_theme(path: Path, theme: str) -> None:
    """Write `[ui] theme` into the config file, keeping its comments and other keys (tomlkit)."""
    import tomlkit

    try:
        text = read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8-sig")
        document = tomlkit.parse(text)
    except FileNotFoundError:
        document = None
    except (tomlkit.exceptions.ParseError, UnicodeDecodeError, RecursionError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    if document is None:
        document = tomlkit.document()
    ui = document.get("ui")
    if ui is None:
        ui = tomlkit.table()
        document["ui"] = ui
    ui["theme"] = theme
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
