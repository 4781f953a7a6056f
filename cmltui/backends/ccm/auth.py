"""The Cloud Manager bearer token: from an environment variable or a command.

A Keycloak-issued JWT expires; when Cloud Manager rejects it, the command is run again for a
fresh one. Neither the token nor the command's output is ever logged or shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from cmltui.config import ConfigError, SourceConfig
from cmltui.credentials import run_credential_command

MAX_TOKEN_BYTES = 16_384


class TokenProvider:
    """Hands out the current token; `refresh()` asks for a new one (only a command can give it)."""

    def __init__(self, config: SourceConfig, env: Mapping[str, str]) -> None:
        self._config = config
        self._env = dict(env)
        self._token: str | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0

    @property
    def can_refresh(self) -> bool:
        return bool(self._config.token_command)

    async def token(self) -> str | None:
        if self._token is None:
            async with self._lock:
                if self._token is None:
                    self._token = await asyncio.to_thread(self._read)
        return self._token

    async def refresh(self) -> str | None:
        """A fresh token after a rejection: the command runs again; an env token is re-read."""
        async with self._lock:
            self.refreshes += 1
            self._token = await asyncio.to_thread(self._read)
        return self._token

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
