"""Cloud Manager's event stream (`GET /api/events/stream`): connect, read, reconnect.

Frames are `event:`/`data:`; every data is JSON. Application events carry the envelope
{type, source, time, data}; `connected`, `heartbeat` and `auth.session.expired` carry their own
small objects. The server sends a heartbeat only after 30 s without events, so more than
`silence` seconds (75 by default) without a byte means the connection is dead. Reconnects back
off exponentially from 1 s to 30 s; after `system.sse.shutdown` the next try is in 2 s.

`license_token` (any token-like key) is removed from every payload as soon as it is parsed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from cmltui.backends.ccm.auth import TokenProvider
from cmltui.backends.ccm.sse import MAX_LINE_BYTES, SseDecoder, SseFrame
from cmltui.config import ConfigError
from cmltui.domain.sanitize import public_json

log = logging.getLogger(__name__)

CONNECTED = "connected"
HEARTBEAT = "heartbeat"
SESSION_EXPIRED = "auth.session.expired"
SHUTDOWN = "system.sse.shutdown"


@dataclass(frozen=True)
class StreamEvent:
    """One application event from the stream, token-free."""

    type: str
    source: str | None
    time: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class StreamState:
    """`connecting`, `connected`, `reconnecting`, `token_rejected`; detail is one short line."""

    state: str
    detail: str | None = None
    retry_in: float | None = None


class StreamEnded(Exception):
    """The server closed the stream on purpose; `delay` is how long to wait before the next try."""

    def __init__(self, reason: str, delay: float, refresh_token: bool = False) -> None:
        super().__init__(reason)
        self.delay = delay
        self.refresh_token = refresh_token


class _TokenRejected(Exception):
    pass


EventHandler = Callable[[StreamEvent], Awaitable[None] | None]
StateHandler = Callable[[StreamState], None]


class CcmStream:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        tokens: TokenProvider,
        *,
        on_event: EventHandler,
        on_state: StateHandler,
        on_connected: Callable[[], Awaitable[None] | None] | None = None,
        backoff_min: float = 1.0,
        backoff_max: float = 30.0,
        shutdown_delay: float = 2.0,
        silence: float = 75.0,
    ) -> None:
        self.session = session
        self.url = base_url.rstrip("/") + "/api/events/stream"
        self.tokens = tokens
        self.on_event = on_event
        self.on_state = on_state
        self.on_connected = on_connected
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.shutdown_delay = shutdown_delay
        self.silence = silence
        self.connections = 0  # successful connects, for tests and the log
        self._failures = 0
        self._malformed_seen: set[str] = set()

    async def run(self) -> None:
        """Forever: connect, read until the stream ends, wait, connect again."""
        while True:
            self.on_state(StreamState("connecting" if not self.connections else "reconnecting"))
            try:
                await self._connect_and_read()
                delay, detail = self._backoff(), "stream closed by the server"
            except StreamEnded as ended:
                self._failures = 0
                delay, detail = ended.delay, str(ended)
                if ended.refresh_token:
                    await self._refresh_quietly()
            except _TokenRejected:
                delay = self._backoff()
                self.on_state(StreamState("token_rejected", "token rejected", delay))
                await asyncio.sleep(delay)
                continue
            except TimeoutError:
                delay, detail = self._backoff(), f"no data for {self.silence:g} s"
            except aiohttp.ClientError as exc:
                delay, detail = self._backoff(), _client_error_text(exc)
            except ConfigError as exc:  # the token command failed: say so, try again later
                delay, detail = self._backoff(), str(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let one bad read end the source
                log.exception("Cloud Manager stream failed")
                delay, detail = self._backoff(), type(exc).__name__
            self.on_state(StreamState("reconnecting", detail, delay))
            await asyncio.sleep(delay)

    def _backoff(self) -> float:
        delay = min(self.backoff_max, self.backoff_min * (2**self._failures))
        self._failures += 1
        return delay

    async def _refresh_quietly(self) -> None:
        try:
            await self.tokens.refresh()
        except Exception as exc:  # a failing token command: the next connect says so
            log.warning("token refresh failed: %s", type(exc).__name__)

    async def _open(self) -> aiohttp.ClientResponse:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=self.silence)
        for attempt in range(2):
            token = await self.tokens.token()
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            response = await self.session.get(
                self.url, headers=headers, timeout=timeout, read_bufsize=2**20
            )
            if response.status == 401:
                response.release()
                if attempt == 0 and self.tokens.can_refresh:
                    await self.tokens.refresh()
                    continue
                raise _TokenRejected()
            if response.status != 200:
                response.release()
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message="stream refused"
                )
            return response
        raise _TokenRejected()

    async def _connect_and_read(self) -> None:
        response = await self._open()
        decoder = SseDecoder()
        try:
            while True:
                try:
                    line = await response.content.readuntil(b"\n")
                except ValueError:  # a line past the reader's limit: drop the connection
                    raise aiohttp.ClientPayloadError("line too long") from None
                if not line:
                    return  # EOF: the server ended the stream
                if len(line) > MAX_LINE_BYTES:
                    raise aiohttp.ClientPayloadError("line too long")
                frame = decoder.feed(line)
                if frame is not None:
                    await self._frame(frame)
        finally:
            response.release()

    async def _frame(self, frame: SseFrame) -> None:
        try:
            payload = json.loads(frame.data)
        except ValueError:
            self._malformed(frame.event, "malformed JSON")
            return
        if frame.event == CONNECTED:
            self.connections += 1
            self._failures = 0
            self.on_state(StreamState("connected"))
            if self.on_connected is not None:
                result = self.on_connected()
                if result is not None:
                    await result
            return
        if frame.event == HEARTBEAT:
            return
        if frame.event == SESSION_EXPIRED:
            raise StreamEnded("session expired", self.backoff_min, refresh_token=True)
        if not isinstance(payload, Mapping):
            self._malformed(frame.event, "not a JSON object")
            return
        kind = payload.get("type") if isinstance(payload.get("type"), str) else frame.event
        if kind == SHUTDOWN:
            raise StreamEnded("Cloud Manager is shutting down", self.shutdown_delay)
        data = payload.get("data")
        if not isinstance(data, Mapping):
            self._malformed(kind, "envelope without data")
            return
        event = StreamEvent(
            type=kind[:200],
            source=_short(payload.get("source")),
            time=_short(payload.get("time")),
            data=public_json(data),  # drops license_token before anything keeps the payload
        )
        result = self.on_event(event)
        if result is not None:
            await result

    def _malformed(self, event: str, what: str) -> None:
        key = f"{event[:80]}:{what}"
        if key not in self._malformed_seen:
            self._malformed_seen.add(key)
            log.warning("Cloud Manager stream: %s frame ignored (%s)", event[:80], what)


def _short(value: Any) -> str | None:
    return value[:64] if isinstance(value, str) else None


def _client_error_text(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"stream refused ({exc.status})"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "TLS certificate not trusted"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connection refused or unreachable"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return "stream dropped"
    return type(exc).__name__
