"""grafana/kubernetes/: the dashboard as a ConfigMap for kube-prometheus-stack's Grafana.

The chart's Grafana runs a sidecar that loads every ConfigMap labelled
`grafana_dashboard: "1"`, in any namespace (its default `searchNamespace: ALL`). The data
is the very text of `grafana/dashboards/`.
"""

from __future__ import annotations

from typing import Any

from lab.generate._output import GeneratedFile
from lab.generate.grafana import dashboard_text
from lab.generate.kubernetes._common import kustomization, manifest, metadata, resource_files
from lab.spec.model import Spec

DIRECTORY = "grafana/kubernetes"
SIDECAR_LABEL = {"grafana_dashboard": "1"}


def dashboard_config_map(spec: Spec) -> dict[str, Any]:
    board = spec.dashboard
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(f"grafana-dashboard-{board.uid}", extra=SIDECAR_LABEL),
        "data": {board.file: dashboard_text(spec)},
    }


def render(spec: Spec) -> list[GeneratedFile]:
    objects = [manifest(DIRECTORY, "dashboard-configmap.yaml", dashboard_config_map(spec))]
    return [*objects, kustomization(spec, DIRECTORY, resource_files(objects, DIRECTORY))]
