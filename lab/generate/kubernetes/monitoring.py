"""prometheus/kubernetes/: the PrometheusRule, the app's ServiceMonitor, chart values.

The PrometheusRule holds exactly the groups of `prometheus/rules/*.yml` (the same
function renders both), so promtool's unit tests of those files hold for it too.

Several expressions select or aggregate on `job` (`up{job="rag-app"}`, `sum by (job)`), so
the ServiceMonitor relabels its targets to the spec's job name, whatever the Service is
called. It also drops the operator's `service` target label: the app's own metrics carry a
`service` label (the dependency: llm, vector store), which the target label would otherwise
rename to `exported_service`, breaking CircuitBreakerOpen and the per-service panels.
"""

from __future__ import annotations

from typing import Any

from lab.generate._output import GeneratedFile, to_yaml
from lab.generate.kubernetes._common import (
    READ_AGAINST,
    app_endpoint,
    kustomization,
    labels,
    manifest,
    metadata,
    resource_files,
)
from lab.generate.prometheus_config import scrape_timeout
from lab.generate.prometheus_rules import group_document
from lab.spec.model import Spec

DIRECTORY = "prometheus/kubernetes"
VALUES_PATH = f"{DIRECTORY}/kube-prometheus-stack-values.yaml"
RULE_NAME = "rag-observability-lab"
PORT_NAME = "http"
OPERATOR_API = "monitoring.coreos.com/v1"
# Target labels the operator adds that the app's own metrics also carry (see above).
DROPPED_TARGET_LABELS = ("service",)


def prometheus_rule(spec: Spec) -> dict[str, Any]:
    groups = [group_document(group, spec)["groups"][0] for group in spec.rule_groups]
    return {
        "apiVersion": OPERATOR_API,
        "kind": "PrometheusRule",
        "metadata": metadata(RULE_NAME, extra={"release": spec.kubernetes.release}),
        "spec": {"groups": groups},
    }


def service_monitor(spec: Spec) -> dict[str, Any]:
    scraping = spec.scraping
    app, app_job = app_endpoint(spec), scraping.app_job
    return {
        "apiVersion": OPERATOR_API,
        "kind": "ServiceMonitor",
        "metadata": metadata(scraping.app_job, extra={"release": spec.kubernetes.release}),
        "spec": {
            "selector": {"matchLabels": labels(app.name)},
            "endpoints": [
                {
                    "port": PORT_NAME,
                    "path": "/metrics",
                    "interval": scraping.app_scrape_interval,
                    "scrapeTimeout": scrape_timeout(scraping.app_scrape_interval),
                    "relabelings": [
                        {"action": "replace", "targetLabel": "job", "replacement": app_job},
                        {"action": "labeldrop", "regex": "|".join(DROPPED_TARGET_LABELS)},
                    ],
                }
            ],
        },
    }


def chart_values(spec: Spec) -> dict[str, Any]:
    """The kube-prometheus-stack values the lab's objects need (see the file's comment)."""
    return {
        "prometheus": {"prometheusSpec": {"enableFeatures": ["exemplar-storage"]}},
        # No alertmanagerConfigNamespaceSelector: the chart's default `{}` already selects
        # every namespace, the lab's included; any selector would narrow it (see the note).
        "alertmanager": {
            "alertmanagerSpec": {"alertmanagerConfigMatcherStrategy": {"type": "None"}}
        },
        "grafana": {"sidecar": {"datasources": {"uid": spec.datasource_uid}}},
    }


def _values_note(spec: Spec) -> str:
    release, namespace = spec.kubernetes.release, spec.kubernetes.namespace
    return f"""\
Values for the kube-prometheus-stack Helm chart (not a kustomize resource).
{READ_AGAINST}
  helm upgrade --install {release} prometheus-community/kube-prometheus-stack \\
    --namespace monitoring --create-namespace -f {VALUES_PATH}
- exemplar-storage: the p95 panels link a slow bucket to its request (as in compose).
- alertmanagerConfigNamespaceSelector is left at the chart's default, {{}}: every
  namespace, "{namespace}" included (only a null selector means Alertmanager's own
  namespace alone). Setting any selector here would narrow it for every team.
- alertmanagerConfigMatcherStrategy None: the default (OnNamespace) routes only alerts
  labelled namespace="{namespace}", and the lab's rules aggregate by job (no namespace
  label), so the lab's AlertmanagerConfig matches on the lab's alert names instead.
  The strategy is Alertmanager-wide: no AlertmanagerConfig it selects gets the namespace
  matcher any more, another team's included. Keep it off a shared Alertmanager, or give
  every other team's AlertmanagerConfig its own namespace matcher.
- grafana.sidecar.datasources.uid: the dashboard's panels name the datasource by uid.
"""


def render(spec: Spec) -> list[GeneratedFile]:
    objects = [
        manifest(DIRECTORY, "prometheusrule.yaml", prometheus_rule(spec)),
        manifest(DIRECTORY, "servicemonitor.yaml", service_monitor(spec)),
    ]
    return [
        *objects,
        kustomization(spec, DIRECTORY, resource_files(objects, DIRECTORY)),
        GeneratedFile(VALUES_PATH, to_yaml(chart_values(spec), comment=_values_note(spec))),
    ]
