"""Reuse the parse of an EC2 listing page that is the same as last time.

At a 2 s interval DescribeInstances is asked every cycle, and botocore spends about half of the
call's CPU turning the XML into dicts. A fleet rarely changes between two cycles: apart from its
`requestId`, the page comes back byte for byte the same. The parser handed out here compares the
body (without the request id) with the last bodies it parsed for the same output shape; when one
matches it returns a copy of that parse, with this response's request id. Any other byte that
differs (a state, a tag, an address, a pagination token) means a full parse, as before.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any

from botocore.parsers import EC2QueryParser, ResponseParserError, ResponseParserFactory

log = logging.getLogger(__name__)

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


_XML_REFERENCE = re.compile(rb"&#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});")
_XML_WHITESPACE = frozenset({0x9, 0xA, 0xD})
_EC2_ANSWER = re.compile(rb'\s*(<\?xml[^>]{0,200}\?>\s*)?<[A-Za-z]{1,80}Response xmlns="http')
"""How an EC2 answer starts: `<?xml …?>` then `<DescribeInstancesResponse xmlns="http…`."""
_FORBIDDEN = {code: chr(0x2400 + code) for code in range(0x20) if code not in _XML_WHITESPACE}
_FORBIDDEN.update({0xFFFE: "\ufffd", 0xFFFF: "\ufffd"})
"""Characters XML 1.0 does not allow, each as one visible character (␀, ␛, …, or �)."""


def _visible_reference(match: re.Match[bytes]) -> bytes:
    digits = match.group(1)
    code = int(digits[1:], 16) if digits.startswith(b"x") else int(digits)
    if code in _FORBIDDEN:
        return _FORBIDDEN[code].encode()
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return "\ufffd".encode()
    return match.group(0)


def xml_made_parseable(body: bytes) -> bytes | None:
    """`body` with every character XML 1.0 forbids (raw or as a `&#…;` reference) replaced by a
    visible one, and bytes that are not UTF-8 by U+FFFD; None when there was nothing to replace.

    Only markup-free characters are replaced, so the document's structure is what was sent.
    EC2 would have to send such characters for this to matter (moto does, raw, for a tag holding
    ESC or NUL); one CreateTags would otherwise make a whole region unlistable.
    """
    if not _EC2_ANSWER.match(body):
        return None  # not an EC2 answer with a stray character: not ours to mend
    text = body.decode("utf-8", errors="replace").translate(_FORBIDDEN)
    repaired = _XML_REFERENCE.sub(_visible_reference, text.encode("utf-8"))
    return None if repaired == body else repaired


class ReusingEC2Parser(EC2QueryParser):
    """botocore's EC2 parser, answering an unchanged listing page from the memo, and reading a
    page that holds characters XML forbids with those characters made visible."""

    def __init__(self, memo: ParseMemo, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._memo = memo

    def _do_parse(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
        if shape is None or shape.name not in REUSED_SHAPES:
            return self._parse_or_repair(response, shape)
        request_id, body = split_request_id(response["body"])
        parsed = self._memo.get(shape, body)
        if parsed is None:
            parsed = self._parse_or_repair(response, shape)
            self._memo.put(shape, body, parsed)  # keyed by the body as sent: no retry next time
        elif request_id is not None:
            parsed["ResponseMetadata"] = {"RequestId": request_id}
        return parsed

    def _parse_or_repair(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
        try:
            return super()._do_parse(response, shape)
        except ResponseParserError:
            repaired = xml_made_parseable(response["body"])
            if repaired is None:
                raise  # not a matter of forbidden characters: the page stays unreadable
        parsed = super()._do_parse({**response, "body": repaired}, shape)
        log.warning(
            "%s: the answer held characters XML does not allow; read with them made visible",
            getattr(shape, "name", "EC2"),
        )
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
