"""The image pins live in docker-compose.yml; the Dockerfile and README repeat them, tied here."""

from __future__ import annotations

import re

import pytest

from tests.image_pins import ROOT, major_minor, pinned_image

PINNED = (
    "PYTHON_IMAGE",
    "PROMETHEUS_IMAGE",
    "ALERTMANAGER_IMAGE",
    "GRAFANA_IMAGE",
    "HAPROXY_IMAGE",
)


def test_dockerfile_default_base_is_the_compose_pin() -> None:
    """The app Dockerfile's default base image is the PYTHON_IMAGE docker-compose.yml pins."""
    dockerfile = (ROOT / "sample_rag_app/Dockerfile").read_text()
    assert f"ARG PYTHON_IMAGE={pinned_image('PYTHON_IMAGE')}\n" in dockerfile


@pytest.mark.parametrize("variable", PINNED)
def test_readme_names_each_pinned_image(variable: str) -> None:
    """The README's table of pinned images gives the compose file's default for each."""
    readme = (ROOT / "README.md").read_text()
    assert f"| `{variable}` | `{pinned_image(variable)}`" in readme


def test_python_pin_is_the_version_ci_runs() -> None:
    """The GitHub workflow's Python is the app image's Python (one Python everywhere)."""
    workflow = (ROOT / ".github/workflows/ci.yml").read_text()
    versions = set(re.findall(r'python-version: "([^"]+)"', workflow))
    assert versions == {major_minor(pinned_image("PYTHON_IMAGE"))}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prom/prometheus:v3.5.0", "3.5"),
        ("python:3.13.9-slim-trixie", "3.13"),
        ("localhost:5000/prom/alertmanager:v0.28.1", "0.28"),
        ("prometheus, version 3.5.3+ds1 (branch: debian/sid, revision: 3.5.3+ds1-6)", "3.5"),
    ],
)
def test_major_minor_reads_tags_and_version_lines(text: str, expected: str) -> None:
    """major.minor comes from an image tag or a tool's `--version` line alike."""
    assert major_minor(text) == expected


def test_a_variable_without_a_default_is_an_error() -> None:
    """Asking for a pin the compose file does not give fails loudly, naming the variable."""
    with pytest.raises(LookupError, match="NO_SUCH_IMAGE"):
        pinned_image("NO_SUCH_IMAGE")
