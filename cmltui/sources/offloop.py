"""Run a blocking call (boto3) off the event loop, on a thread that can never hold the exit.

`asyncio.to_thread` uses the loop's default executor, which `asyncio.run` joins on the way out
and the interpreter joins at exit: one boto3 call stuck on a hung endpoint (connect and read
timeouts times retries) kept `q` from exiting for minutes. Here each call runs on its own
daemon thread; an abandoned call is simply left behind when the process ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def run_off_loop(func: Callable[..., T], *args: Any, name: str = "cmltui-aws") -> T:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(outcome: T | None, error: BaseException | None) -> None:
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(outcome)  # type: ignore[arg-type]

    def work() -> None:
        try:
            outcome = context.run(func, *args)
        except BaseException as exc:  # handed to the awaiting task, never lost
            error: BaseException | None = exc
            outcome = None
        else:
            error = None
        # A closed loop means nobody waits for this answer any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, outcome, error)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future
