"""Shared fixtures for the generator tests: the repository root and the promtool/amtool gate."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
GENERATED_DIRS = ("prometheus", "alertmanager", "grafana")


@pytest.fixture
def repo_root() -> Path:
    return ROOT


Tool = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tool() -> Tool:
    """Run `promtool`/`amtool` with arguments in a directory, or skip when not installed."""

    def run(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        path = shutil.which(name)
        if path is None:
            package = {"promtool": "prometheus", "amtool": "prometheus-alertmanager"}[name]
            pytest.skip(f"{name} not installed (apt-get install {package})")
        return subprocess.run(
            [path, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
        )

    return run


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the generated directories (and the runbooks) in a temporary root."""
    for name in (*GENERATED_DIRS, "docs"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path
