"""Reuse the parse of an EC2 listing page that is the same as last time.

At a 2 s interval DescribeInstances is asked every cycle, and botocore spends about half of the
call's CPU turning the XML into dicts. A fleet rarely changes between two cycles: apart from its
`requestId`, the page comes back byte for byte the same. The parser handed out here compares the
body (without the request id) with the last bodies it parsed for the same output shape; when one
matches it returns a copy of that parse, with this response's request id. Any other byte that
differs (a state, a tag, an address, a pagination token) means a full parse, as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from botocore.parsers import EC2QueryParser, ResponseParserFactory

REUSED_SHAPES = frozenset({"DescribeInstancesResult", "DescribeInstanceStatusResult"})
"""Output shapes of the calls made every cycle; other calls are parsed as botocore does."""

MEMO_ENTRIES = 16
"""Bodies remembered: a few pages per region is plenty (each entry holds a body and its parse)."""

MEMO_BYTES = 8 * 1024 * 1024
"""Bodies kept in all, besides the newest: at 1000 instances a page is ~3.5 MB, and a fleet that
changes every cycle would otherwise keep sixteen stale pages and their parses."""

_OPEN, _CLOSE = b"<requestId>", b"</requestId>"


def split_request_id(body: bytes) -> tuple[str | None, bytes]:
    """(request id, the body without it); the id is the only part that changes on every call."""
    start = body.find(_OPEN)
    if start < 0:
        return None, body
    end = body.find(_CLOSE, start)
    if end < 0:
        return None, body
    request_id = body[start + len(_OPEN) : end].decode("utf-8", "replace")
    return request_id, body[:start] + body[end + len(_CLOSE) :]


def copy_parsed(value: Any) -> Any:
    """A copy of a parsed response deep enough that a caller changing it changes nothing here.

    Parsed responses hold only dicts, lists and immutable scalars (str, int, bool, datetime).
    """
    if isinstance(value, dict):
        return {key: copy_parsed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_parsed(item) for item in value]
    return value


class ParseMemo:
    """The last few (shape, body) -> parse results, shared by the parsers of one session."""

    def __init__(self, entries: int = MEMO_ENTRIES, max_bytes: int = MEMO_BYTES) -> None:
        self._entries = entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._parsed: OrderedDict[tuple[int, bytes], tuple[Any, dict[str, Any]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, shape: Any, body: bytes) -> dict[str, Any] | None:
        with self._lock:
            found = self._parsed.get((id(shape), body))
            if found is None or found[0] is not shape:
                self.misses += 1
                return None
            self._parsed.move_to_end((id(shape), body))
            self.hits += 1
            parsed = found[1]
        return copy_parsed(parsed)

    def put(self, shape: Any, body: bytes, parsed: dict[str, Any]) -> None:
        kept = copy_parsed({k: v for k, v in parsed.items() if k != "ResponseMetadata"})
        key = (id(shape), body)
        with self._lock:
            if key not in self._parsed:
                self._bytes += len(body)
            self._parsed[key] = (shape, kept)
            self._parsed.move_to_end(key)
            while len(self._parsed) > 1 and (
                len(self._parsed) > self._entries or self._bytes > self._max_bytes
            ):
                (_, old_body), _ = self._parsed.popitem(last=False)
                self._bytes -= len(old_body)

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes of bodies) remembered."""
        with self._lock:
            return len(self._parsed), self._bytes


class ReusingEC2Parser(EC2QueryParser):
    """botocore's EC2 parser, answering an unchanged listing page from the memo."""

    def __init__(self, memo: ParseMemo, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._memo = memo

    def _do_parse(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
        if shape is None or shape.name not in REUSED_SHAPES:
            return super()._do_parse(response, shape)
        request_id, body = split_request_id(response["body"])
        parsed = self._memo.get(shape, body)
        if parsed is None:
            parsed = super()._do_parse(response, shape)
            self._memo.put(shape, body, parsed)
        elif request_id is not None:
            parsed["ResponseMetadata"] = {"RequestId": request_id}
        return parsed


class ReusingParserFactory(ResponseParserFactory):
    """botocore's parser factory, with the reusing parser for the EC2 protocol."""

    def __init__(self) -> None:
        super().__init__()
        self.memo = ParseMemo()
        self._parser_defaults: dict[str, Any] = {}

    def set_parser_defaults(self, **kwargs: Any) -> None:
        super().set_parser_defaults(**kwargs)
        self._parser_defaults.update(kwargs)

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "ec2":
            return ReusingEC2Parser(self.memo, **self._parser_defaults)
        return super().create_parser(protocol_name)
