"""Logging to a file in the platform log directory; never to the terminal while the UI runs."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path

from cmltui import paths
from cmltui.domain.sanitize import visible
from cmltui.domain.secrets import scrub_text
from cmltui.localfile import open_for_append

_NOISY = ("werkzeug", "botocore", "boto3", "urllib3", "moto", "aiohttp.access")


class VisibleFormatter(logging.Formatter):
    """Log lines are read in terminals (`tail -f`, stderr): outside text in them is made
    visible line by line, so an escape sequence in a CML answer cannot act on that terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(visible(line) for line in super().format(record).split("\n"))


class RedactSecrets(logging.Filter):
    """Masks passwords, tokens and JWTs in every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = scrub_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def log_file_path(*, demo: bool = False) -> Path:
    return paths.log_file(demo=demo)


@dataclass(frozen=True)
class LoggingSetup:
    """Where logs go; `problem` is the one line to show when the log file cannot be used."""

    path: Path | None
    problem: str | None = None


def configure_logging(
    level: str, *, stderr_fallback: bool = False, demo: bool = False
) -> LoggingSetup:
    """Send everything to a rotating file; nothing goes to stderr except what the CLI prints.

    When the log directory is unusable the run goes on: logs go to stderr when
    `stderr_fallback` (commands without a full-screen UI), else nowhere, and `problem` says so.
    """
    path = log_file_path(demo=demo)
    problem: str | None = None
    handler: logging.Handler
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        open_for_append(path).close()  # a FIFO or a device in its place refuses, never hangs
        handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        where = "logging to stderr" if stderr_fallback else "logging is off"
        problem = f"cannot write log file {path}: {reason}; {where}"
        handler = logging.StreamHandler(sys.stderr) if stderr_fallback else logging.NullHandler()
        path = None  # type: ignore[assignment]
    handler.setFormatter(VisibleFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return LoggingSetup(path, problem)
