"""What every Kubernetes render shares: labels, and names derived from the spec.

The workloads keep their compose service names (`app`, `alert-sink`), read from the spec's
scrape target and sink URL, so the loadgen's default target and the rules' `job` mean the
same thing on a laptop and in a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lab.generate._output import GeneratedFile, to_yaml
from lab.spec.model import Spec

PART_OF = "rag-observability-lab"
# The runtime image of sample_rag_app/Dockerfile: the app, the loadgen and the alert sink.
IMAGE = "rag-observability-lab/python"
IMAGE_TAG = "dev"
# The Dockerfile's `USER 10001:10001`.
RUN_AS = 10001
# What the operator's objects and the chart values were read against (the chart's values.yaml
# and templates, the operator's pkg/alertmanager); the CRDs the tests validate against are
# that chart's (tests/unit/lab/generate/kubernetes/crds/README.md).
CHART_VERSION = "88.5.3"
OPERATOR_VERSION = "v0.93.1"
READ_AGAINST = (
    f"Read against kube-prometheus-stack {CHART_VERSION} (prometheus-operator {OPERATOR_VERSION})."
)


@dataclass(frozen=True)
class Endpoint:
    """A service the spec names by `host:port` (and path): its Kubernetes Service."""

    name: str
    port: int
    path: str = ""

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        parts = urlsplit(url if "//" in url else f"http://{url}")
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"{url!r} names no host and port")
        return cls(parts.hostname, parts.port, parts.path)

    @property
    def in_namespace_url(self) -> str:
        return f"http://{self.name}:{self.port}{self.path}"

    def cluster_url(self, namespace: str) -> str:
        """Reachable from any namespace (Alertmanager runs in the monitoring stack's)."""
        return f"http://{self.name}.{namespace}.svc:{self.port}{self.path}"


def app_endpoint(spec: Spec) -> Endpoint:
    return Endpoint.from_url(spec.scraping.app_target)


def sink_endpoint(spec: Spec) -> Endpoint:
    return Endpoint.from_url(spec.routing.sink_url)


def labels(component: str) -> dict[str, str]:
    """The selector labels of one component."""
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/part-of": PART_OF}


def metadata(name: str, *, extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "labels": {"app.kubernetes.io/part-of": PART_OF, **(extra or {})}}


def manifest(
    directory: str, file: str, resource: dict[str, Any], *, comment: str = ""
) -> GeneratedFile:
    return GeneratedFile(f"{directory}/{file}", to_yaml(resource, comment=comment))


def kustomization(spec: Spec, directory: str, resources: list[str], **fields: Any) -> GeneratedFile:
    """A kustomize base: the directory's objects, in the lab's namespace."""
    body: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": spec.kubernetes.namespace,
        "resources": resources,
        **fields,
    }
    return GeneratedFile(f"{directory}/kustomization.yaml", to_yaml(body))


def resource_files(files: list[GeneratedFile], directory: str) -> list[str]:
    """The names of the files rendered into `directory`, for its kustomization."""
    return [f.path.removeprefix(f"{directory}/") for f in files]
