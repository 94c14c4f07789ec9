"""`kubectl kustomize` builds the entry kustomization, and the README's overlay on top of it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.generate.kubernetes import alerting, dashboards, monitoring, workloads
from lab.spec import SPEC
from tests.unit.lab.generate.kubernetes.conftest import KubeLoader, Renders

README_SECTION = "## From the laptop to a cluster"


def _build(directory: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed (its built-in kustomize builds the bases)")
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.load_all(result.stdout, Loader=KubeLoader) if doc]


def _readme_section(repo_root: Path) -> str:
    text = (repo_root / "README.md").read_text()
    start = text.index(README_SECTION)
    return text[start : text.index("\n## ", start + 1)]


def test_entry_kustomization_applies_every_object_in_the_lab_namespace(
    k8s: Renders, repo_root: Path
) -> None:
    """The build holds every rendered object once, each in `rag-lab` (but the Namespace)."""
    built = _build(repo_root / workloads.DIRECTORY)
    keys = sorted((d["kind"], d["metadata"]["name"]) for d in built)
    assert keys == sorted((d["kind"], d["metadata"]["name"]) for d in k8s.objects.values())
    for doc in built:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == SPEC.kubernetes.namespace, doc["kind"]


def test_readme_overlay_sets_the_image_and_release_label(repo_root: Path, tmp_path: Path) -> None:
    """The README's overlay, pointed at this checkout, changes every image and both release
    labels, and nothing else's labels."""
    block = re.search(
        r"```yaml\n(\s*# my-lab/kustomization.yaml\n.*?)```", _readme_section(repo_root), re.S
    )
    assert block is not None, "the README shows no overlay"
    overlay: dict[str, Any] = yaml.safe_load(block[1])
    overlay["resources"] = [os.path.relpath(repo_root / workloads.DIRECTORY, tmp_path)]
    overlay["patches"][0]["patch"] = overlay["patches"][0]["patch"].replace(
        "value: kube-prometheus-stack", "value: monitoring"
    )
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(overlay))
    built = _build(tmp_path)
    images = {
        c["image"]
        for d in built
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example.com/rag-lab/python:0.1.0"}
    releases = {
        d["kind"]: d["metadata"]["labels"]["release"]
        for d in built
        if "release" in d["metadata"].get("labels", {})
    }
    assert releases == {"PrometheusRule": "monitoring", "ServiceMonitor": "monitoring"}


def test_readme_names_what_the_renders_use(repo_root: Path) -> None:
    """The section's namespace, Secret, values file and release match the generators."""
    section = _readme_section(repo_root)
    for name in (
        SPEC.kubernetes.namespace,
        SPEC.kubernetes.release,
        workloads.ADMIN_SECRET,
        "prometheus/kubernetes/kube-prometheus-stack-values.yaml",
        f"secret generic {workloads.ADMIN_SECRET}",
    ):
        assert name in section, name


@pytest.mark.parametrize(
    "directory", [monitoring.DIRECTORY, alerting.DIRECTORY, dashboards.DIRECTORY]
)
def test_each_tool_directory_is_a_base_of_its_own(
    k8s: Renders, repo_root: Path, directory: str
) -> None:
    """`kubectl apply -k prometheus/kubernetes` alone (say, for an app deployed otherwise)
    applies exactly the objects rendered into that directory."""
    built = _build(repo_root / directory)
    rendered = [doc for path, doc in k8s.objects.items() if path.startswith(f"{directory}/")]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in built) == sorted(
        (d["kind"], d["metadata"]["name"]) for d in rendered
    )
