"""The dashboard ConfigMap: compose's dashboard file, labelled for the chart's Grafana sidecar."""

from __future__ import annotations

import json
from pathlib import Path

from lab.spec import SPEC
from tests.unit.lab.generate.kubernetes.conftest import Renders

# `kubectl apply` keeps the applied object in an annotation, which may not exceed 256 KiB.
LAST_APPLIED_LIMIT = 262_144


def test_config_map_holds_the_dashboard_file_verbatim(k8s: Renders, repo_root: Path) -> None:
    """Its one key is the file name and its value the committed file's exact text."""
    board = SPEC.dashboard
    data = k8s.one("ConfigMap")["data"]
    assert data == {board.file: (repo_root / "grafana/dashboards" / board.file).read_text()}


def test_config_map_carries_the_sidecar_label(k8s: Renders) -> None:
    """kube-prometheus-stack's Grafana sidecar loads ConfigMaps labelled grafana_dashboard=1."""
    assert k8s.one("ConfigMap")["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_config_map_fits_kubectl_apply(k8s: Renders) -> None:
    """Small enough for client-side `kubectl apply` (its last-applied annotation)."""
    assert len(json.dumps(k8s.one("ConfigMap"))) < LAST_APPLIED_LIMIT


def test_every_panel_names_the_datasource_the_chart_values_create(k8s: Renders) -> None:
    """The panels' datasource uid is the one the values file gives the chart's datasource."""
    board = json.loads(k8s.one("ConfigMap")["data"][SPEC.dashboard.file])
    uids = {p["datasource"]["uid"] for p in board["panels"]}
    uids |= {t["datasource"]["uid"] for p in board["panels"] for t in p["targets"]}
    values = k8s.files["prometheus/kubernetes/kube-prometheus-stack-values.yaml"]
    assert uids == {values["grafana"]["sidecar"]["datasources"]["uid"]}
