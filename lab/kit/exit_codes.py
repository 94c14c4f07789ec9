"""What `lab` tells the shell: a leaf module, so every command can import it."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What `lab` tells the shell."""

    OK = 0
    FAILED = 1  # a check failed: drift, an unhealthy service, an alert that never arrived
    USAGE = 2  # bad arguments (argparse's own convention)
