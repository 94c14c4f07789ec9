"""Generators: thin renderers from `lab.spec` to the files the compose stack mounts, and
their Kubernetes counterparts for the Prometheus Operator (`lab.generate.kubernetes`).

`render_all` returns every generated file; `write` puts them under a root directory and
`drift` compares them with what is there (what `lab generate --check` reports).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from lab.generate import (
    alertmanager,
    grafana,
    kubernetes,
    prometheus_config,
    prometheus_rules,
    promtool,
    scenario_variants,
)
from lab.generate._output import GeneratedFile
from lab.spec.model import Spec

__all__ = ["OWNED_GLOBS", "Drift", "GeneratedFile", "drift", "render_all", "stale", "write"]

# Directories whose matching files only the generators write: anything there that the spec
# no longer produces (say, the test file of a removed alert) is stale.
OWNED_GLOBS = (
    "prometheus/rules/*.yml",
    "prometheus/tests/*.yml",
    "grafana/dashboards/*.json",
    *(f"{directory}/*.yaml" for directory in kubernetes.DIRECTORIES),
    "prometheus/scenarios/*.yml",
    "alertmanager/scenarios/*.yml",
)


def render_all(spec: Spec) -> list[GeneratedFile]:
    """Every committed generated file, in a stable order."""
    files = [
        *prometheus_config.render(spec),
        *prometheus_rules.render(spec),
        *promtool.render(spec),
        *alertmanager.render(spec),
        *grafana.render(spec),
        *kubernetes.render(spec),
        *scenario_variants.render(spec),
    ]
    paths = [f.path for f in files]
    if len(paths) != len(set(paths)):
        raise ValueError("two generators produced the same path")
    return files


def write(files: list[GeneratedFile], root: Path) -> list[Path]:
    """Write the files under `root`; return those whose content changed."""
    changed = []
    for file in files:
        target = root / file.path
        if target.is_file() and target.read_text(encoding="utf-8") == file.content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content, encoding="utf-8")
        changed.append(target)
    return changed


@dataclass(frozen=True)
class Drift:
    """A generated file whose committed copy differs from what the spec produces."""

    path: str
    diff: str  # unified diff, committed -> generated ("" when the file is missing)
    missing: bool = False


def drift(files: list[GeneratedFile], root: Path) -> list[Drift]:
    found = []
    for file in files:
        target = root / file.path
        if not target.is_file():
            found.append(Drift(file.path, "", missing=True))
            continue
        current = target.read_text(encoding="utf-8")
        if current != file.content:
            diff = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    file.content.splitlines(keepends=True),
                    fromfile=f"{file.path} (committed)",
                    tofile=f"{file.path} (from lab/spec)",
                )
            )
            found.append(Drift(file.path, diff))
    return found


def stale(files: list[GeneratedFile], root: Path) -> list[str]:
    """Paths in the generators' own directories that the spec no longer produces."""
    produced = {f.path for f in files}
    found = {
        path.relative_to(root).as_posix() for pattern in OWNED_GLOBS for path in root.glob(pattern)
    }
    return sorted(found - produced)
