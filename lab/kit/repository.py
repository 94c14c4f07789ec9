"""The checkout the lab's commands work in: where `lab generate` writes and `lab scenario`
keeps its state and reads its runbooks."""

from __future__ import annotations

from pathlib import Path


def find_root(start: Path) -> Path:
    """The repository root: the nearest directory at or above `start` with a pyproject.toml."""
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return start
