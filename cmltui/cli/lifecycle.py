"""How a long-running command ends: on a signal, with its exit code, closing its backend in time.

`watch`, `exporter` and the dashboard share it, so ctrl+c is 130 and SIGTERM 143 everywhere,
and a backend that takes long to close never keeps the command from ending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

from cmltui.api.backend import Backend
from cmltui.cli.exits import EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM

log = logging.getLogger(__name__)

CLOSE_GRACE_SECONDS = 1.0
SIGNAL_CODES = ((signal.SIGINT, EXIT_SIGINT), (signal.SIGTERM, EXIT_SIGTERM))


class Ending:
    """Set once, by a signal or by the command itself, with the exit code to return."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.code = EXIT_OK

    def end(self, code: int = EXIT_OK) -> None:
        if not self.event.is_set():
            self.code = code
            self.event.set()

    async def wait(self) -> int:
        await self.event.wait()
        return self.code

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        """ctrl+c and SIGTERM end the command (130, 143) through its normal clean-up."""
        loop = asyncio.get_running_loop()
        for signum, code in SIGNAL_CODES:
            loop.add_signal_handler(signum, self.end, code)
        try:
            yield
        finally:
            for signum, _code in SIGNAL_CODES:
                loop.remove_signal_handler(signum)


async def close_in_time(backend: Backend) -> None:
    """Close the backend, waiting for nothing that may hang: in-flight AWS calls are abandoned
    (daemon threads) and CML requests are cancelled with their session."""
    try:
        async with asyncio.timeout(CLOSE_GRACE_SECONDS):
            await backend.close()
    except TimeoutError:
        log.warning("backend close took over %g s; leaving anyway", CLOSE_GRACE_SECONDS)
