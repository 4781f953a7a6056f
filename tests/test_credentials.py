"""The one credential-command runner: `cml.password_command` and `source.token_command`."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from cmltui.backends.ccm.auth import TokenProvider
from cmltui.config import ConfigError, SourceConfig
from cmltui.credentials import local_user, run_credential_command


def _forking_command(pidfile: Path) -> str:
    """A command whose own child sleeps on: killing only the command would leave it behind."""
    return f"sh -c 'sleep 300 & echo $! > {pidfile}; wait'"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as gone
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _gone_soon(pid: int, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    return not _alive(pid)


def test_password_command_is_killed_as_a_group_and_says_what_it_waits_for(tmp_path):
    pidfile = tmp_path / "child.pid"
    said: list[str] = []
    began = time.monotonic()
    with pytest.raises(ConfigError, match=r"cml\.password_command timed out after 1 s"):
        run_credential_command(
            _forking_command(pidfile), key="cml.password_command", timeout=1.0, waiting=said.append
        )
    assert time.monotonic() - began < 5
    assert said == ["waiting for cml.password_command (up to 1 s)…"]
    assert _gone_soon(int(pidfile.read_text())), "the command's own child outlived the timeout"


def test_password_command_output_and_quick_commands_say_nothing():
    said: list[str] = []
    out = run_credential_command(
        f"{sys.executable} -c \"print('s3cret')\"",
        key="cml.password_command",
        timeout=10,
        waiting=said.append,
    )
    assert out == "s3cret" and said == []
    with pytest.raises(ConfigError, match=r"^cml\.password_command failed: exit status 3$"):
        run_credential_command(
            f'{sys.executable} -c "raise SystemExit(3)"', key="cml.password_command", timeout=10
        )


async def test_a_timed_out_token_command_is_killed_with_its_children(tmp_path):
    pidfile = tmp_path / "child.pid"
    source = SourceConfig(token_command=_forking_command(pidfile), token_command_timeout=1)
    tokens = TokenProvider(source, env={})
    began = time.monotonic()
    with pytest.raises(ConfigError, match=r"^source\.token_command timed out after 1 s$"):
        await asyncio.wait_for(tokens.token(), 10)
    assert time.monotonic() - began < 5
    assert _gone_soon(int(pidfile.read_text())), "the token command's child outlived the timeout"


async def test_a_failing_token_command_names_the_key_and_never_its_output():
    command = f"{sys.executable} -c \"print('SECRET-OUT'); raise SystemExit(4)\""
    tokens = TokenProvider(SourceConfig(token_command=command), env={})
    with pytest.raises(ConfigError) as caught:
        await tokens.token()
    assert str(caught.value) == "source.token_command failed: exit status 4"


async def test_a_token_command_that_prints_a_token_gives_it():
    command = f"{sys.executable} -c \"print('  eyJhbGciOi.abc.def  ')\""
    assert await TokenProvider(SourceConfig(token_command=command), env={}).token() == (
        "eyJhbGciOi.abc.def"
    )


def test_a_command_that_prints_without_end_is_refused_at_the_limit_not_the_timeout(tmp_path):
    """`yes` would fill memory for the whole timeout if its output were read to the end."""
    began = time.monotonic()
    with pytest.raises(ConfigError, match=r"^cml\.password_command printed more than 65536 "):
        run_credential_command("yes", key="cml.password_command", timeout=30)
    assert time.monotonic() - began < 10


def test_the_local_user_is_a_name():
    assert local_user() and "\n" not in local_user()
