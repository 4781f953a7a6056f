"""Cloud Manager's event stream (`GET /api/events/stream`): connect, read, reconnect.

Frames are `event:`/`data:`; every data is JSON. Application events carry the envelope
{type, source, time, data}; `connected`, `heartbeat` and `auth.session.expired` carry their own
small objects, and `event: error` a bare `{"error": …}` after which upstream ends the stream.
The server sends a heartbeat only after 30 s without events, so more than `silence` seconds (75
by default) without a byte means the connection is dead.

Each frame is parsed on its own, with a size and depth limit: one that cannot be read, or that
the handler cannot apply, is skipped (logged once per kind) and the next one is read.

Reconnects back off exponentially from 1 s to 30 s, and the back-off remembers: it starts over
only after a connection has stayed up for `stable_after` seconds (60), so a server that
accepts and closes at once is not hammered. After `system.sse.shutdown` the next try is in 2 s
(or later, by the same rule).

`license_token` (any token-like key) is removed from every payload as soon as it is parsed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from cmltui.backends.ccm.auth import TokenProvider
from cmltui.backends.ccm.kinds import KindCounter
from cmltui.backends.ccm.sse import MAX_LINE_BYTES, SseDecoder, SseFrame
from cmltui.config import ConfigError
from cmltui.domain.sanitize import error_text, public_json
from cmltui.jsonbounds import loads_bounded

log = logging.getLogger(__name__)

CONNECTED = "connected"
HEARTBEAT = "heartbeat"
SESSION_EXPIRED = "auth.session.expired"
SHUTDOWN = "system.sse.shutdown"
ERROR = "error"


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


class StreamFault(Exception):
    """The server said the stream failed (`event: error`); its message, made safe."""


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
        stable_after: float = 60.0,
        max_depth: int = 32,
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
        self.stable_after = stable_after
        self.max_depth = max_depth
        self.connections = 0  # successful connects, for tests and the log
        self._failures = 0
        self._connected_at: float | None = None
        self.skipped = KindCounter(log, "stream frames skipped")

    async def run(self) -> None:
        """Forever: connect, read until the stream ends, wait, connect again."""
        while True:
            self.on_state(StreamState("connecting" if not self.connections else "reconnecting"))
            self._connected_at = None
            try:
                await self._connect_and_read()
                delay, detail = self._backoff(), "stream closed by the server"
            except StreamEnded as ended:
                delay, detail = max(ended.delay, self._backoff()), str(ended)
                if ended.refresh_token:
                    await self._refresh_quietly()
            except StreamFault as fault:
                delay, detail = self._backoff(), f"Cloud Manager error: {fault}"
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
        """The next delay; it starts over only after a connection that stayed up a while."""
        up_since = self._connected_at
        if up_since is not None and time.monotonic() - up_since >= self.stable_after:
            self._failures = 0
        delay = self.backoff_min * 2**self._failures
        self._failures = min(self._failures + 1, 30)
        self._connected_at = None
        return min(self.backoff_max, delay)

    async def _refresh_quietly(self) -> None:
        try:
            await self.tokens.expired()
        except Exception as exc:  # a failing token command: the next connect says so
            log.warning("token refresh failed: %s", type(exc).__name__)

    async def _open(self) -> tuple[aiohttp.ClientResponse, str | None]:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=self.silence)
        token = await self.tokens.token()
        for attempt in range(2):
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            response = await self.session.get(
                self.url, headers=headers, timeout=timeout, read_bufsize=2**20
            )
            if response.status == 401:
                response.release()
                fresh = await self.tokens.rejected(token) if attempt == 0 else token
                if fresh != token:
                    token = fresh
                    continue
                raise _TokenRejected()
            if response.status != 200:
                response.release()
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message="stream refused"
                )
            return response, token
        raise _TokenRejected()

    async def _connect_and_read(self) -> None:
        response, token = await self._open()
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
                    await self._frame(frame, token)
        finally:
            response.release()

    async def _frame(self, frame: SseFrame, token: str | None) -> None:
        try:
            payload = loads_bounded(frame.data, self.max_depth, constants_as_none=True)
        except ValueError as exc:
            self.skipped.note(frame.event, f"malformed JSON or nested too deeply ({exc})")
            return
        if frame.event == CONNECTED:
            self.connections += 1
            self._connected_at = time.monotonic()
            self.tokens.accepted(token)
            self.on_state(StreamState("connected"))
            await _call(self.on_connected)
            return
        if frame.event == HEARTBEAT:
            return
        if frame.event == SESSION_EXPIRED:
            raise StreamEnded("session expired", self.backoff_min, refresh_token=True)
        if frame.event == ERROR:
            message = payload.get("error") if isinstance(payload, Mapping) else None
            raise StreamFault(error_text(message if isinstance(message, str) else "no detail"))
        if not isinstance(payload, Mapping):
            self.skipped.note(frame.event, "not a JSON object")
            return
        kind = payload.get("type") if isinstance(payload.get("type"), str) else frame.event
        if kind == SHUTDOWN:
            raise StreamEnded("Cloud Manager is shutting down", self.shutdown_delay)
        data = payload.get("data")
        if not isinstance(data, Mapping):
            self.skipped.note(kind, "envelope without data")
            return
        event = StreamEvent(
            type=kind[:200],
            source=_short(payload.get("source")),
            time=_short(payload.get("time")),
            data=public_json(data),  # drops license_token before anything keeps the payload
        )
        try:
            await _call(self.on_event, event)
        except Exception as exc:  # one event the handler cannot apply: skip it, read on
            self.skipped.note(event.type, f"could not be applied ({type(exc).__name__})")
            log.debug("Cloud Manager %s event not applied", event.type[:80], exc_info=True)


async def _call(handler: Callable[..., Awaitable[None] | None] | None, *args: Any) -> None:
    if handler is None:
        return
    result = handler(*args)
    if result is not None:
        await result


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
