"""What `lab` tells the shell: a leaf module, so every command can import it.

`lab.cli.run` is the one place that turns what a command raises into an exit code, so a
new command cannot forget: a command raises `BadInput` for anything the person must
change (a variable, a flag, a file), and returns `FAILED` for what it found.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What `lab` tells the shell."""

    OK = 0
    FAILED = 1  # a check failed: drift, an unhealthy service, an alert that never arrived
    USAGE = 2  # bad arguments, variables or files (argparse's own convention)
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT (128 + 2)


class BadInput(Exception):
    """Input the person must change, said as one message: what, where, and the fix."""
