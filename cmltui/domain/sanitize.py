"""Plain, secret-free JSON values: what may leave the core from CML's nested objects."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

SECRET_KEY_PARTS = ("token", "password", "secret")


def public_json(value: Any) -> Any:
    """A copy without token-like keys at any depth, with only plain JSON values in it.

    The Smart Licensing token never leaves the core; NaN or ±inf become None so JSON stays valid.
    """
    if isinstance(value, Mapping):
        return {
            str(k): public_json(v)
            for k, v in value.items()
            if not any(part in str(k).lower() for part in SECRET_KEY_PARTS)
        }
    if isinstance(value, list | tuple):
        return [public_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
