"""Kubernetes renders of the spec, for the Prometheus Operator (kube-prometheus-stack).

Each tool's objects live beside its compose files, as kustomize bases:
`prometheus/kubernetes/` (PrometheusRule, ServiceMonitor, the chart values they need),
`alertmanager/kubernetes/` (AlertmanagerConfig), `grafana/kubernetes/` (the dashboard
ConfigMap) and `sample_rag_app/kubernetes/` (the workloads, and the kustomization that
applies everything: `kubectl apply -k sample_rag_app/kubernetes`).
"""

from __future__ import annotations

from lab.generate._output import GeneratedFile
from lab.generate.kubernetes import alerting, dashboards, monitoring, workloads
from lab.spec.model import Spec

DIRECTORIES = (monitoring.DIRECTORY, alerting.DIRECTORY, dashboards.DIRECTORY, workloads.DIRECTORY)


def render(spec: Spec) -> list[GeneratedFile]:
    return [
        *monitoring.render(spec),
        *alerting.render(spec),
        *dashboards.render(spec),
        *workloads.render(spec),
    ]
