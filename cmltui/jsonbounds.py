"""JSON from outside, decoded with a depth limit and without `NaN` or `Infinity`.

`json.loads` has no depth limit of its own: a document nested a few thousand levels deep raises
`RecursionError` (not `ValueError`), and one that nests within the interpreter's limit still
costs every later walk over it. Everything here raises `ValueError` instead, so a caller that
treats a bad document as data needs one `except`.
"""

from __future__ import annotations

import json
from typing import Any


class JsonTooDeep(ValueError):
    """The document nests deeper than allowed."""


def json_depth(value: Any, stop_after: int) -> int:
    """Nesting depth of a decoded JSON value; stops counting once past `stop_after`."""
    depth = 0
    level: list[Any] = [value]
    while level and depth <= stop_after:
        containers = [v for v in level if isinstance(v, dict | list)]
        if not containers:
            break
        depth += 1
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]
    return depth


def loads_bounded(data: str | bytes, max_depth: int, *, constants_as_none: bool = False) -> Any:
    """Strict JSON nested at most `max_depth` levels; `ValueError` for anything else.

    With `constants_as_none`, `NaN` and `Infinity` (which Python's own `json.dumps` writes)
    read as null instead of failing the whole document: for a service whose one bad number
    must not hide every other value.
    """
    try:
        value = json.loads(data, parse_constant=_none if constants_as_none else _refuse_constant)
    except RecursionError:
        raise JsonTooDeep(f"nested deeper than {max_depth} levels") from None
    if json_depth(value, max_depth) > max_depth:
        raise JsonTooDeep(f"nested deeper than {max_depth} levels")
    return value


def small_json(data: str | bytes, *, max_chars: int, max_depth: int) -> Any | None:
    """Strict JSON from a short piece of outside data; None when it is longer than
    `max_chars`, malformed, or nested deeper than `max_depth`."""
    if len(data) > max_chars:
        return None
    try:
        return loads_bounded(data, max_depth)
    except ValueError:
        return None


def _none(_name: str) -> None:
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
