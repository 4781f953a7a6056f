"""The one secret scrubber: which keys hold secrets, and how secrets are masked in free text.

Used for CML's nested objects (the Smart Licensing token), log records, audit lines and error
texts, so that a password, token or JWT never reaches the screen, the JSON or a file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SECRET_KEY_PARTS = ("token", "password", "passwd", "secret")
"""Key parts naming a secret. Not "authorization": CML's licensing object has such a block."""
MASK = "***"

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_.~+/=]+"), rf"\1{MASK}"),
    (
        re.compile(
            r"(?i)(password|passwd|secret|token|authorization)"
            r"([\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"
        ),
        rf"\1\2{MASK}",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+"), MASK),  # any JWT
)


def is_secret_key(key: object) -> bool:
    """True for a mapping key that names a secret (`token`, `id_token`, `password`, …)."""
    return isinstance(key, str) and any(part in key.lower() for part in SECRET_KEY_PARTS)


def scrub_text(text: str) -> str:
    """Free text with passwords, bearer tokens and JWTs masked."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def without_secret_keys(value: Any) -> Any:
    """A deep copy of a JSON-like value without any key that names a secret."""
    if isinstance(value, Mapping):
        return {k: without_secret_keys(v) for k, v in value.items() if not is_secret_key(k)}
    if isinstance(value, list | tuple):
        return [without_secret_keys(v) for v in value]
    return value
