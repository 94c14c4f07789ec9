"""sample_rag_app/kubernetes/: the app, its loadgen and the alert sink, and the entry kustomization.

Beside the Dockerfile of the one image all three run (as in compose). The pods get the
compose hardening and then some: non-root (the image's uid), read-only root filesystem,
no capabilities, no privilege escalation, the runtime's seccomp profile, no service
account token; the namespace enforces the `restricted` Pod Security Standard, so a pod
that loses any of it is refused. Service links are off: Kubernetes would otherwise set
`ALERT_SINK_PORT=tcp://...` in every pod, and the sink reads `ALERT_SINK_PORT` as its port.

Memory requests sit above what `bench/results/stack_footprint.md` measured (app 58 MiB,
alert sink 52 MiB, loadgen 35 MiB at the default traffic); no CPU limit, so a burst is
slowed by its neighbours rather than throttled.
"""

from __future__ import annotations

from typing import Any

from lab.generate._output import GeneratedFile
from lab.generate.kubernetes import alerting, dashboards, monitoring
from lab.generate.kubernetes._common import (
    IMAGE,
    IMAGE_TAG,
    RUN_AS,
    Endpoint,
    app_endpoint,
    kustomization,
    labels,
    manifest,
    metadata,
    resource_files,
    sink_endpoint,
)
from lab.spec.model import Spec
from sample_rag_app.harness import LOADGEN_HEARTBEAT_FILE

DIRECTORY = "sample_rag_app/kubernetes"
LOADGEN = "loadgen"
PORT_NAME = monitoring.PORT_NAME
# The Secret the user creates (README, "From the laptop to a cluster"); none is committed.
ADMIN_SECRET = "rag-app-admin"
ADMIN_SECRET_KEY = "token"

_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
_POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "fsGroup": RUN_AS,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _resources(memory_mib: int) -> dict[str, Any]:
    return {
        "requests": {"cpu": "50m", "memory": f"{memory_mib}Mi"},
        "limits": {"memory": f"{memory_mib * 2}Mi"},
    }


def _probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def _env(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for name, value in values.items()]


def _deployment(
    name: str,
    container: dict[str, Any],
    *,
    replicas: int = 1,
    volumes: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """One container from the lab's image, hardened, with a writable emptyDir per mount."""
    image = {"image": f"{IMAGE}:{IMAGE_TAG}", "imagePullPolicy": "IfNotPresent"}
    mounts = [{"name": volume, "mountPath": path["mountPath"]} for volume, path in volumes.items()]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, extra=labels(name)),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels(name)},
            "template": {
                "metadata": {"labels": labels(name)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": _POD_SECURITY,
                    "containers": [
                        {
                            "name": name,
                            **image,
                            **container,
                            "securityContext": _CONTAINER_SECURITY,
                            "volumeMounts": mounts,
                        }
                    ],
                    "volumes": [
                        {"name": volume, "emptyDir": spec["emptyDir"]}
                        for volume, spec in volumes.items()
                    ],
                },
            },
        },
    }


def _tmp() -> dict[str, dict[str, Any]]:
    """The compose `tmpfs: /tmp`."""
    return {"tmp": {"mountPath": "/tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}}


def _service(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(endpoint.name, extra=labels(endpoint.name)),
        "spec": {
            "selector": labels(endpoint.name),
            "ports": [{"name": PORT_NAME, "port": endpoint.port, "targetPort": PORT_NAME}],
        },
    }


def app_deployment(spec: Spec) -> dict[str, Any]:
    app = app_endpoint(spec)
    admin_token = {
        "name": "RAG_ADMIN_TOKEN",
        # Optional: without the Secret the admin endpoints stay disabled (the app's default).
        "valueFrom": {
            "secretKeyRef": {"name": ADMIN_SECRET, "key": ADMIN_SECRET_KEY, "optional": True}
        },
    }
    container = {
        "command": ["python", "-m", "sample_rag_app"],
        "env": [*_env({"RAG_PORT": str(app.port)}), admin_token],
        "ports": [{"name": PORT_NAME, "containerPort": app.port}],
        "startupProbe": _probe("/healthz", period=2, failures=30),
        "livenessProbe": _probe("/healthz", period=10, failures=3),
        "readinessProbe": _probe("/readyz", period=5, failures=2),
        "resources": _resources(128),
    }
    return _deployment(app.name, container, replicas=spec.kubernetes.app_replicas, volumes=_tmp())


def _heartbeat_probe(*, period: int, failures: int) -> dict[str, Any]:
    """The loadgen serves no port: it writes until when it counts as alive (renewed by every
    request that finishes, failed or not), and the probe compares that with the clock. A
    shell, `date` and `cat`: no Python started per probe."""
    check = f'test "$(date +%s)" -lt "$(cat {LOADGEN_HEARTBEAT_FILE})"'
    return {
        "exec": {"command": ["sh", "-c", check]},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def loadgen_deployment(spec: Spec) -> dict[str, Any]:
    """Restarted when its requests stop finishing (its scheduler or workers stuck), not when
    the app fails them; no readiness probe, as no Service sends it anything."""
    container = {
        "command": ["python", "-m", "sample_rag_app.services.loadgen"],
        "env": _env({"LOADGEN_TARGET_URL": app_endpoint(spec).in_namespace_url}),
        # Its first readiness poll of the app writes the file, a second or so after start.
        "startupProbe": _heartbeat_probe(period=2, failures=30),
        "livenessProbe": _heartbeat_probe(period=20, failures=3),
        "resources": _resources(64),
    }
    return _deployment(LOADGEN, container, volumes=_tmp())


def sink_deployment(spec: Spec) -> dict[str, Any]:
    """One replica: it appends to one file. An emptyDir keeps it across container restarts."""
    sink = sink_endpoint(spec)
    data = {"mountPath": "/data", "emptyDir": {"sizeLimit": "256Mi"}}
    container = {
        "command": ["python", "-m", "sample_rag_app.services.alert_sink"],
        "env": _env(
            {"ALERT_SINK_PORT": str(sink.port), "ALERT_SINK_DATA_FILE": "/data/alerts.jsonl"}
        ),
        "ports": [{"name": PORT_NAME, "containerPort": sink.port}],
        "livenessProbe": _probe("/healthz", period=10, failures=3),
        "readinessProbe": _probe("/healthz", period=5, failures=2),
        "resources": _resources(96),
    }
    return _deployment(sink.name, container, volumes={**_tmp(), "data": data})


def namespace(spec: Spec) -> dict[str, Any]:
    enforce = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn")}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": metadata(spec.kubernetes.namespace, extra=enforce),
    }


def render(spec: Spec) -> list[GeneratedFile]:
    app, sink = app_endpoint(spec), sink_endpoint(spec)
    objects = [
        manifest(DIRECTORY, "namespace.yaml", namespace(spec)),
        manifest(DIRECTORY, f"{app.name}-deployment.yaml", app_deployment(spec)),
        manifest(DIRECTORY, f"{app.name}-service.yaml", _service(app)),
        manifest(DIRECTORY, f"{LOADGEN}-deployment.yaml", loadgen_deployment(spec)),
        manifest(DIRECTORY, f"{sink.name}-deployment.yaml", sink_deployment(spec)),
        manifest(DIRECTORY, f"{sink.name}-service.yaml", _service(sink)),
    ]
    # The monitoring objects are bases of their own, beside their tools' compose files, so a
    # cluster that runs the app some other way can apply just those.
    bases = [f"../../{d}" for d in (monitoring.DIRECTORY, alerting.DIRECTORY, dashboards.DIRECTORY)]
    entry = kustomization(
        spec,
        DIRECTORY,
        [*resource_files(objects, DIRECTORY), *bases],
        images=[{"name": IMAGE, "newTag": IMAGE_TAG}],
    )
    return [*objects, entry]
