"""`cmltui watch`: the core's channels as JSON lines, for scripts (README, "Watching the fleet").

The same core service as the dashboard runs headless; each snapshot, activity event and change
of the source's state becomes one line of strict JSON, written and flushed at once. A snapshot
line is `snapshot --format json`'s object, an activity line the event's own JSON, each with a
`channel` field. Writing happens on a thread of its own, so a slow reader never stalls a
collection, and a reader that goes away (`| head -1`) ends the command at once, quietly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import select
import stat
import threading
from collections.abc import Callable, Collection
from typing import Any, TextIO

from cmltui.api.backend import Backend, SourceStatus
from cmltui.api.events import ActivityEvent, FleetSnapshot
from cmltui.cli.jsonout import strict_json
from cmltui.cli.lifecycle import Ending, close_in_time

log = logging.getLogger(__name__)

CHANNELS = ("snapshot", "activity", "status")
BACKLOG = 64
"""Lines waiting for a slow reader; past that the oldest waiting line is dropped (and logged)."""
_STATES_WITH_NEWS = frozenset({"retrying", "reconnecting", "error"})


def snapshot_line(snapshot: FleetSnapshot) -> dict[str, Any]:
    """`snapshot --format json`'s object, with the channel and the event's type and source."""
    return {
        "channel": "snapshot",
        "type": snapshot.type,
        "source": snapshot.source,
        **snapshot.to_dict(),
    }


def activity_line(event: ActivityEvent) -> dict[str, Any]:
    """The event as the dashboard receives it: {channel, type, source, data}."""
    return {"channel": "activity", **event.to_dict()}


def status_line(status: SourceStatus) -> dict[str, Any]:
    return {
        "channel": "status",
        "source": status.label,
        "state": status.state,
        "detail": status.detail,
        "retry_at": status.retry_at.isoformat() if status.retry_at else None,
    }


def status_news(status: SourceStatus) -> tuple[str, str | None]:
    """What makes a status worth a line: its state, and its reason while it is failing (not
    every progress step of a start, nor the partial errors an `ok` snapshot carries)."""
    return status.state, status.detail if status.state in _STATES_WITH_NEWS else None


class LineWriter:
    """Writes lines on a daemon thread; says when it is done (count reached or reader gone).

    A daemon thread blocked on a full pipe never keeps the process from exiting.
    """

    def __init__(self, stream: TextIO, count: int | None, done: Callable[[], None]) -> None:
        self._stream = stream
        self._count = count
        self._done = done
        self._lines: queue.Queue[Callable[[], dict[str, Any]] | None] = queue.Queue()
        self._waiting = 0
        self._lock = threading.Lock()
        self.written = 0
        self.reader_gone = False
        self._thread = threading.Thread(target=self._run, name="cmltui-watch-out", daemon=True)

    def start(self) -> None:
        self._thread.start()
        watch_reader(self._stream, self._gone)

    def put(self, make: Callable[[], dict[str, Any]]) -> None:
        """Queue a line, made on the writer's thread (a big fleet's JSON costs the loop
        nothing); with `BACKLOG` lines already waiting, the new one is dropped."""
        with self._lock:
            if self._waiting >= BACKLOG:
                log.warning("watch: the reader is slow; a line was dropped")
                return
            self._waiting += 1
        self._lines.put(make)

    def _run(self) -> None:
        while self._count is None or self.written < self._count:
            make = self._lines.get()
            with self._lock:
                self._waiting -= 1
            if make is None:
                return
            text = strict_json(make()) + "\n"
            try:
                self._stream.write(text)
                self._stream.flush()
            except BrokenPipeError:
                self._gone()
                return
            except ValueError:  # the stream was closed under us: we are exiting
                return
            self.written += 1
        self._done()

    def _gone(self) -> None:
        """The reader went away: whatever is still buffered goes nowhere, quietly."""
        if self.reader_gone:
            return
        self.reader_gone = True
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        self._done()


def watch_reader(stream: TextIO, gone: Callable[[], None]) -> None:
    """When the output is a pipe, notice the reader leaving without waiting for the next line
    (the next snapshot may be a whole interval away): poll reports an error on the write end."""
    try:
        fd = stream.fileno()
        is_pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
    except (OSError, ValueError):
        return
    if not is_pipe or not hasattr(select, "poll"):
        return

    def wait() -> None:
        poller = select.poll()
        poller.register(fd, select.POLLERR | select.POLLHUP)
        with contextlib.suppress(OSError):
            if poller.poll():
                gone()

    threading.Thread(target=wait, name="cmltui-watch-reader", daemon=True).start()


async def watch(
    backend: Backend,
    stream: TextIO,
    *,
    channels: Collection[str] = CHANNELS,
    count: int | None = None,
) -> int:
    """Subscribe, start the backend, write lines until done or a signal; returns the exit code."""
    loop = asyncio.get_running_loop()
    ending = Ending()
    writer = LineWriter(stream, count, lambda: loop.call_soon_threadsafe(ending.end))
    _subscribe(backend, writer, channels)
    with ending.on_signals():
        writer.start()
        try:
            await backend.start()
            return await ending.wait()
        finally:
            await close_in_time(backend)


def _subscribe(backend: Backend, writer: LineWriter, channels: Collection[str]) -> None:
    if "snapshot" in channels:
        backend.subscribe_snapshots(lambda snapshot: writer.put(lambda: snapshot_line(snapshot)))
    if "activity" in channels:
        backend.subscribe_activity(lambda event: writer.put(lambda: activity_line(event)))
    if "status" in channels:
        last: list[tuple[str, str | None]] = []

        def on_status(status: SourceStatus) -> None:
            news = status_news(status)
            if last and last[0] == news:
                return
            last[:] = [news]
            writer.put(lambda: status_line(status))

        backend.subscribe_status(on_status)
