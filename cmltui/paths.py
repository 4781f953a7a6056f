"""Every place on disk cmltui reads or writes, in one module (platformdirs).

One small function per location, so tests (and platformdirs' own pytest fixture) can redirect
them all. Nothing here creates a directory: the writer that needs one creates it and reports
plainly when it cannot.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "cmltui"
DEMO_SUBDIR = "demo"
"""`cmltui demo` keeps its audit log and log file in this folder of the state and log
directories, so the simulated fleet never writes the operator's real ones."""


def config_dir() -> Path:
    """Where the config file lives unless `--config` or `CMLTUI_CONFIG` says otherwise."""
    return Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    return config_dir() / "config.toml"


def state_dir(*, demo: bool = False) -> Path:
    """Durable local state: the audit log."""
    base = Path(platformdirs.user_state_dir(APP_NAME))
    return base / DEMO_SUBDIR if demo else base


def audit_log_file(*, demo: bool = False) -> Path:
    return state_dir(demo=demo) / "audit.jsonl"


def log_dir(*, demo: bool = False) -> Path:
    base = Path(platformdirs.user_log_dir(APP_NAME))
    return base / DEMO_SUBDIR if demo else base


def log_file(*, demo: bool = False) -> Path:
    return log_dir(demo=demo) / "cmltui.log"


def cache_dir() -> Path:
    """Data that can be read again when lost: the Pricing API's prices (`price_cache_file`)."""
    return Path(platformdirs.user_cache_dir(APP_NAME))


def price_cache_file() -> Path:
    """On-demand prices read from the AWS Pricing API, kept for a week."""
    return cache_dir() / "prices.json"
