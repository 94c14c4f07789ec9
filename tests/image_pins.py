"""The image versions the lab pins, read from docker-compose.yml, the one place they are written.

Every image there is `${VARIABLE:-default}`; tests that start an image themselves, or
check a tool's version, use the variable when set and the compose file's default otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"


def pinned_image(variable: str) -> str:
    """The default docker-compose.yml gives `${variable:-...}`."""
    defaults = set(re.findall(rf"\$\{{{variable}:-([^}}]+)\}}", COMPOSE_FILE.read_text()))
    if len(defaults) != 1:
        raise LookupError(f"docker-compose.yml gives ${{{variable}:-IMAGE}} defaults {defaults}")
    return defaults.pop()


def image(variable: str) -> str:
    """The image the stack runs: the variable when set, else the compose file's default."""
    return os.environ.get(variable) or pinned_image(variable)


def major_minor(text: str) -> str:
    """The first `X.Y` of a version or an image tag ("prom/prometheus:v3.5.0" → "3.5")."""
    # An image reference's version is its tag, after the last colon (a registry port may precede).
    found = re.search(r"(\d+)\.(\d+)", text if " " in text else text.rsplit(":", 1)[-1])
    if found is None:
        raise ValueError(f"no version number in {text!r}")
    return f"{found[1]}.{found[2]}"
