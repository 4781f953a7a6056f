"""Who acts, and the secrets cmltui is handed: the local user, and the credential commands.

`cml.password_command` and the Cloud Manager's `source.token_command` both run through
`run_credential_command`: in their own process group (a command that forks, such as a password
manager's agent, is killed whole on timeout), with no input, and with their output never logged
or shown. A failure says which key failed and how, never what the command printed.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping

from cmltui.config import CmlConfig, ConfigError, CredentialOverride

NOTICE_AFTER_SECONDS = 0.5
"""Seconds of silence after which the terminal is told what cmltui is waiting for."""
MAX_OUTPUT_CHARS = 65_536
"""More than any password or bearer token: a command that prints more is refused."""


def local_user() -> str:
    """The local account's name (the operator until the AWS caller is known); never raises."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_credential_command(
    command: str,
    *,
    key: str,
    timeout: float,
    waiting: Callable[[str], None] | None = None,
) -> str:
    """Run `command` and return what it printed (trailing newlines removed).

    `key` names the setting in every error (`cml.password_command`). A command that asks for a
    passphrase (a GPG agent, a password manager) can take a while: after a short moment
    `waiting` is told, so the terminal does not sit blank. On timeout, or if the caller is
    interrupted, the command's whole process group is killed.
    """
    try:
        proc = subprocess.Popen(
            shlex.split(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own process group, killed as one
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{key} failed: {type(exc).__name__}") from None
    try:
        out = _bounded_output(proc, key=key, timeout=timeout, waiting=waiting)
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        raise ConfigError(f"{key} failed: exit status {proc.returncode}")
    return out.rstrip("\n")


def _bounded_output(
    proc: subprocess.Popen[str],
    *,
    key: str,
    timeout: float,
    waiting: Callable[[str], None] | None,
) -> str:
    """What `proc` printed before it exited, read up to one character past the limit: a
    command that prints without end (`yes`) is refused at the limit, not held in memory
    until the timeout."""
    assert proc.stdout is not None
    stdout = proc.stdout
    printed: list[str] = []
    reader = threading.Thread(
        target=lambda: printed.append(stdout.read(MAX_OUTPUT_CHARS + 1)), daemon=True
    )
    deadline = time.monotonic() + timeout
    reader.start()
    reader.join(min(timeout, NOTICE_AFTER_SECONDS))
    if reader.is_alive() and waiting is not None:
        waiting(f"waiting for {key} (up to {timeout:g} s)…")
    reader.join(max(0.0, deadline - time.monotonic()))
    if reader.is_alive():
        raise ConfigError(f"{key} timed out after {timeout:g} s")
    out = printed[0] if printed else ""
    if len(out) > MAX_OUTPUT_CHARS:
        raise ConfigError(f"{key} printed more than {MAX_OUTPUT_CHARS} characters")
    try:  # its output has ended: it is exiting (or lingers with stdout closed)
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{key} timed out after {timeout:g} s") from None
    return out


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=2)


def resolve_password(
    config: CmlConfig | CredentialOverride,
    env: Mapping[str, str],
    *,
    timeout: float = 30.0,
    waiting: Callable[[str], None] | None = None,
) -> str | None:
    """The CML password from a command or an environment variable; never from the file."""
    command = config.password_command
    if command:
        return run_credential_command(
            command, key="cml.password_command", timeout=timeout, waiting=waiting
        )
    name = config.password_env
    return env.get(name) if name else None
