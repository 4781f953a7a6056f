"""Run `cmltui simulate` in its own process and read back how to reach it.

Benchmarks measure the collector's CPU with `time.process_time()`; that figure means something
only when moto and the CML simulator burn their CPU in another process. `SimProcess` starts
`python -m cmltui simulate`, parses what it prints (see `simulate_info_text`), and stops it with
SIGINT (the simulator's clean shutdown), escalating to SIGTERM/SIGKILL only if it hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

_FIELDS = {
    "aws_endpoint_url": re.compile(r"^AWS endpoint:\s+(\S+)"),
    "regions": re.compile(r"^AWS regions:\s+(.+)$"),
    "access_key": re.compile(r"^AWS access key:\s+(\S+)"),
    "secret_key": re.compile(r"^AWS secret key:\s+(\S+)"),
    "ca_file": re.compile(r"^CA file:\s+(\S+)"),
    "cml_password": re.compile(r"^CML password:\s+(\S+)"),
}
_LAST_LINE = re.compile(r"^\s+ca_bundle = ")


def _default_sigint() -> None:
    """In the child: a parent started in the background ignores SIGINT, and so would we."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass(frozen=True)
class SimInfo:
    """What the simulator printed. The password and keys are dummies, but still not repr'd."""

    aws_endpoint_url: str
    regions: tuple[str, ...]
    ca_file: Path
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    cml_password: str = field(repr=False)

    @property
    def region(self) -> str:
        return self.regions[0]

    @property
    def aws_credentials(self) -> dict[str, str]:
        return {"aws_access_key_id": self.access_key, "aws_secret_access_key": self.secret_key}


def parse_info(lines: list[str]) -> SimInfo:
    """Pick the endpoint, credentials and CA file out of `cmltui simulate`'s banner."""
    found: dict[str, str] = {}
    for line in lines:
        for key, pattern in _FIELDS.items():
            match = pattern.match(line)
            if match and key not in found:
                found[key] = match.group(1).strip()
    missing = sorted(set(_FIELDS) - set(found))
    if missing:
        raise RuntimeError(f"simulator banner lacks {', '.join(missing)}")
    return SimInfo(
        aws_endpoint_url=found["aws_endpoint_url"],
        regions=tuple(r.strip() for r in found["regions"].split(",")),
        ca_file=Path(found["ca_file"]),
        access_key=found["access_key"],
        secret_key=found["secret_key"],
        cml_password=found["cml_password"],
    )


class SimProcess:
    """`async with SimProcess(workers=100) as sim:` -> `sim.info`, `sim.pid`, `sim.startup_s`."""

    def __init__(self, workers: int, seed: int = 0, start_timeout: float = 600.0) -> None:
        self.workers = workers
        self.seed = seed
        self.start_timeout = start_timeout
        self.startup_s = 0.0
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._info: SimInfo | None = None

    @property
    def info(self) -> SimInfo:
        if self._info is None:
            raise RuntimeError("simulator not started")
        return self._info

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("simulator not started")
        return self._proc.pid

    async def __aenter__(self) -> SimProcess:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cmltui",
            "simulate",
            "--workers",
            str(self.workers),
            "--seed",
            str(self.seed),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr,
            limit=1 << 20,
            preexec_fn=_default_sigint,
        )
        try:
            lines = await asyncio.wait_for(self._read_banner(), self.start_timeout)
            self._info = parse_info(lines)
        except BaseException:
            await self.stop()
            raise
        self.startup_s = loop.time() - started
        return self

    async def _read_banner(self) -> list[str]:
        assert self._proc is not None and self._proc.stdout is not None
        lines: list[str] = []
        while True:
            raw = await self._proc.stdout.readline()
            if not raw:
                raise RuntimeError(f"simulator exited before it was ready: {self.stderr_tail()}")
            line = raw.decode(errors="replace").rstrip("\n")
            lines.append(line)
            if _LAST_LINE.match(line):
                return lines

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop(self, grace_s: float = 60.0) -> int | None:
        """SIGINT (clean stop: listeners, moto, temp dir), then SIGTERM, then SIGKILL."""
        proc = self._proc
        if proc is None:
            return None
        if proc.returncode is None:
            for sig, wait_s in ((signal.SIGINT, grace_s), (signal.SIGTERM, 10.0)):
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)
                try:
                    await asyncio.wait_for(proc.wait(), wait_s)
                    break
                except TimeoutError:
                    continue
            else:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        # Drain stdout so the pipe transport closes quietly.
        if proc.stdout is not None:
            with contextlib.suppress(Exception):
                await proc.stdout.read()
        self._stderr.close()
        return proc.returncode

    @property
    def returncode(self) -> int | None:
        """The exit status: 0 after a clean SIGINT stop, negative when a signal killed it."""
        return None if self._proc is None else self._proc.returncode

    def leftover_dir(self) -> Path | None:
        """The simulator's temp directory if it is still there after the stop."""
        if self._info is None or self.returncode is None:
            return None
        folder = self._info.ca_file.parent
        return folder if folder.exists() else None

    def stderr_tail(self, chars: int = 2000) -> str:
        with contextlib.suppress(ValueError, OSError):
            self._stderr.seek(0)
            return self._stderr.read().decode(errors="replace")[-chars:]
        return ""
