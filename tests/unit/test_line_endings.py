"""A Windows checkout keeps the scripts the containers and CI run, and the configs they
mount, with LF line endings: `.gitattributes` says so, and git applies it to each file."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from lab import generate
from lab.spec import SPEC
from tests.image_pins import ROOT

SCRIPTS = (".ci/run", ".ci/offline-images", ".ci/grafana-schema/check", ".ci/bin/promtool")
pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs the git checkout"
)


def _eol(paths: list[str]) -> dict[str, str]:
    done = subprocess.run(
        ["git", "check-attr", "eol", "--", *paths],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    # "path: eol: lf" per line
    return {line.split(": ")[0]: line.rsplit(": ", 1)[1] for line in done.stdout.splitlines()}


def test_scripts_and_mounted_configs_check_out_with_lf() -> None:
    """Every script CI runs, and every generated file a container mounts, is `eol=lf`."""
    mounted = [f.path for f in generate.render_all(SPEC)]
    paths = [*SCRIPTS, "docker-compose.yml", "sample_rag_app/Dockerfile", *mounted]
    assert _eol(paths) == dict.fromkeys(paths, "lf")


def test_committed_scripts_and_configs_hold_no_crlf() -> None:
    """The files as committed have no CRLF a checkout would keep."""
    paths = [*SCRIPTS, "docker-compose.yml", *(f.path for f in generate.render_all(SPEC))]
    assert [p for p in paths if b"\r\n" in (ROOT / p).read_bytes()] == []
