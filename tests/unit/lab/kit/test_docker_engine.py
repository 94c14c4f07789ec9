"""Without the `docker` package or an engine that answers, the caller learns which."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lab.kit.docker_engine import EngineUnavailable, compose_containers


def test_a_missing_docker_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `docker` package: the problem and its own fix (pip install docker)."""
    monkeypatch.setitem(sys.modules, "docker", None)
    with pytest.raises(EngineUnavailable) as raised:
        compose_containers("rag-observability-lab", "app")
    assert raised.value.fix == "pip install docker"


def test_an_engine_that_does_not_answer_leaves_the_fix_to_the_caller(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No engine at DOCKER_HOST: "cannot reach the Docker engine", and no fix of its own."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    with pytest.raises(EngineUnavailable) as raised:
        compose_containers("rag-observability-lab", "app")
    assert raised.value.problem.startswith("cannot reach the Docker engine")
    assert raised.value.fix is None
