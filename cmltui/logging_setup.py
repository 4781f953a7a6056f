"""Logging to a file in the platform log directory; never to the terminal while the UI runs."""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

_SECRET_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_.]+"), r"\1***"),
    (
        re.compile(
            r"(?i)(password|passwd|secret|token|authorization)([\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"
        ),
        r"\1\2***",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+"), "***"),  # any JWT
]


class RedactSecrets(logging.Filter):
    """Masks passwords, tokens and JWTs in every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def log_file_path(*, demo: bool = False) -> Path:
    from cmltui.audit import user_dir

    return user_dir("log", demo=demo) / "cmltui.log"


def configure_logging(level: str, *, demo: bool = False) -> Path:
    """Send everything to a rotating file; nothing goes to stderr except what the CLI prints."""
    path = log_file_path(demo=demo)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3", "moto", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return path
