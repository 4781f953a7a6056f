"""The exit codes every command and the dashboard use (and `say`, the one-line error on stderr).

0: all went well; 1: something failed or was refused; 2: usage (bad flags, bad config);
129: the terminal went away; 130: ctrl+c; 143: SIGTERM. A shell reports a signal as 128 + its
number, so the last three read the same whether the process died of it or exited for it.
"""

from __future__ import annotations

import signal

from cmltui.stderr import say as say

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TERMINAL_GONE = 128 + signal.SIGHUP  # 129
EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143
