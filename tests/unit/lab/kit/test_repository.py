"""The repository root the commands default to."""

from __future__ import annotations

from pathlib import Path

from lab.kit.repository import find_root


def test_find_root_walks_up_to_pyproject(tmp_path: Path) -> None:
    """The default root is the nearest directory with a pyproject.toml."""
    (tmp_path / "pyproject.toml").write_text("")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_root(nested) == tmp_path
