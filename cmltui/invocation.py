"""The command that runs this cmltui, as a line a user can paste (README, "The simulator").

`simulate` prints commands to run next. A bare `cmltui` is found only when the virtual
environment is activated, and the README's install never activates it; so the printed command
is the running executable's absolute path, or `<interpreter> -m cmltui` when cmltui was started
that way. A shared leaf: plain Python, no cmltui imports.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence


def command_line(argv0: str | None = None, executable: str | None = None) -> str:
    """ "/home/me/cmltui/.venv/bin/cmltui", or "/usr/bin/python3 -m cmltui" (shell-quoted)."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = executable or sys.executable
    name = os.path.basename(argv0)
    if name == "cmltui":
        found = argv0 if os.sep in argv0 else shutil.which(argv0)
        if found:
            return shlex.quote(os.path.abspath(found))
    return f"{shlex.quote(executable)} -m cmltui"


def command(*args: str, argv0: str | None = None) -> str:
    """The whole line for a subcommand: `command("run", "--ccm", url)`."""
    return " ".join([command_line(argv0), *_quoted(args)])


def _quoted(args: Sequence[str]) -> list[str]:
    return [shlex.quote(arg) for arg in args]
