"""Shared fixtures for the generator tests: the repository root and the promtool/amtool gate."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.image_pins import major_minor, pinned_image

ROOT = Path(__file__).resolve().parents[4]
GENERATED_DIRS = ("prometheus", "alertmanager", "grafana", "haproxy", "sample_rag_app/kubernetes")


@pytest.fixture
def repo_root() -> Path:
    return ROOT


Tool = Callable[..., subprocess.CompletedProcess[str]]
# Which compose image each tool belongs to: its version must be that image's pinned version.
TOOL_IMAGES = {"promtool": "PROMETHEUS_IMAGE", "amtool": "ALERTMANAGER_IMAGE"}
IN_IMAGE_HINT = (
    "`PATH=$PWD/.ci/bin:$PATH` runs the one in the pinned image (what `bash .ci/run` does)"
)


@functools.cache
def _reported_version(path: str) -> str:
    result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=120)
    return ((result.stdout or result.stderr).strip().splitlines() or ["no output"])[0]


@pytest.fixture
def tool() -> Tool:
    """Run `promtool`/`amtool` with arguments in a directory, or skip (saying why) when it is
    not installed or is another version than the one docker-compose.yml pins."""

    def run(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        path = shutil.which(name)
        if path is None:
            pytest.skip(f"{name} not installed: {IN_IMAGE_HINT}")
        pinned = pinned_image(TOOL_IMAGES[name])
        reported = _reported_version(path)
        if major_minor(reported) != major_minor(pinned):
            pytest.skip(f"{path} is '{reported}', the lab pins {pinned}: {IN_IMAGE_HINT}")
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
