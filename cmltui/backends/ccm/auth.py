"""The Cloud Manager bearer token: from an environment variable or a command.

A Keycloak-issued JWT expires; when Cloud Manager rejects it, the command is run again for a
fresh one. Neither the token nor the command's output is ever logged or shown.

The command runs at most once a minute (`min_command_gap`), so that a server that rejects
every token, or ends every session at once, cannot make cmltui run it in a loop. One exception:
a 401 on a token Cloud Manager had accepted before means that token has expired, and a fresh
one is asked for at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from cmltui.config import ConfigError, SourceConfig
from cmltui.credentials import run_credential_command

MAX_TOKEN_BYTES = 16_384
MIN_COMMAND_GAP = 60.0


class TokenProvider:
    """Hands out the current token; `rejected()` and `expired()` ask for a new one (only a
    command can give a different one)."""

    def __init__(
        self,
        config: SourceConfig,
        env: Mapping[str, str],
        *,
        min_command_gap: float = MIN_COMMAND_GAP,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._env = dict(env)
        self._token: str | None = None
        self._read_once = False
        self._proven = False  # Cloud Manager accepted the current token at least once
        self._last_run: float | None = None
        self._failed: ConfigError | None = None
        self._lock = asyncio.Lock()
        self._gap = min_command_gap
        self._monotonic = monotonic
        self.refreshes = 0  # tokens read again after the first (tests and the log read it)
        self.command_runs = 0

    @property
    def can_refresh(self) -> bool:
        return bool(self._config.token_command)

    async def token(self) -> str | None:
        """The current token; the first call reads it (a failed read is retried, within the
        command gap, and says the same until then)."""
        if not self._read_once:
            async with self._lock:
                if not self._read_once:
                    if self._failed is not None and not self._may_run():
                        raise self._failed
                    try:
                        await self._read_new()
                    except ConfigError as exc:
                        self._failed = exc
                        raise
                    self._read_once, self._failed = True, None
        return self._token

    def accepted(self, token: str | None) -> None:
        """Cloud Manager accepted this token (a stream connected, a route answered)."""
        if token is not None and token == self._token:
            self._proven = True

    async def rejected(self, token: str | None) -> str | None:
        """A 401 answered `token`: the token to try next (the same one when there is none).

        A token that had worked has expired: a fresh one at once. One never accepted is asked
        again no sooner than the command gap allows.
        """
        async with self._lock:
            if token != self._token:
                return self._token  # someone else has already replaced it
            if self._proven or self._may_run():
                self.refreshes += 1
                await self._read_new()
            return self._token

    async def expired(self) -> str | None:
        """Cloud Manager ended the session without a 401: a fresh token, within the gap."""
        async with self._lock:
            if self._may_run():
                self.refreshes += 1
                await self._read_new()
            return self._token

    def _may_run(self) -> bool:
        if not self.can_refresh or self._last_run is None:
            return True  # an environment token costs nothing to read again
        return self._monotonic() - self._last_run >= self._gap

    async def _read_new(self) -> None:
        if self.can_refresh:
            self._last_run = self._monotonic()
            self.command_runs += 1
        self._proven = False
        self._token = await asyncio.to_thread(self._read)

    def _read(self) -> str | None:
        command = self._config.token_command
        if command:
            token = run_credential_command(
                command, key="source.token_command", timeout=self._config.token_command_timeout
            ).strip()
        else:
            name = self._config.token_env
            token = (self._env.get(name) or "").strip() if name else ""
        if len(token) > MAX_TOKEN_BYTES or any(c.isspace() for c in token):
            raise ConfigError("source token: not a usable bearer token (too long or has spaces)")
        return token or None
