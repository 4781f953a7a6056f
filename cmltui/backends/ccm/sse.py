"""Server-Sent Events framing (WHATWG HTML, "event stream interpretation"), line by line.

Hand-written on purpose: the maintained SSE clients either own the HTTP connection and their own
reconnect policy (aiohttp-sse-client, last released 2021) or are tied to httpx or to sync
iterators (httpx-sse, sseclient-py). Cloud Manager's stream needs our reconnect policy on our
aiohttp session, and the framing itself is these few rules. Sizes are bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DATA_BYTES = 1_048_576  # one event's data; a bigger one is dropped whole
MAX_LINE_BYTES = 1_048_576


@dataclass(frozen=True)
class SseFrame:
    event: str  # "message" when the frame names none
    data: str
    id: str | None = None


class SseDecoder:
    """Feed it lines (without or with their line ending); it returns a frame at each blank line."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._size = 0
        self._id: str | None = None
        self._oversized = False

    def feed(self, raw: bytes | str) -> SseFrame | None:
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment (keep-alive)
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value[:200]
        elif name == "data":
            self._size += len(value) + 1
            if self._size > MAX_DATA_BYTES:
                self._oversized = True
                self._data.clear()
            elif not self._oversized:
                self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value[:200]
        return None  # `retry` and unknown fields are ignored

    def _dispatch(self) -> SseFrame | None:
        event, data, oversized = self._event or "message", self._data, self._oversized
        self._event, self._data, self._size, self._oversized = "", [], 0, False
        if oversized or not data:
            return None
        return SseFrame(event=event, data="\n".join(data), id=self._id)
