"""Reading what an app wrote to a pseudo-terminal, for the tests that run it in one."""

from __future__ import annotations

import os
import select
import time


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """Everything read from `fd` until `needle` shows up, the pty closes or `timeout` passes."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and needle not in seen:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen
