"""The app, loadgen and alert sink Deployments: compose's services, hardened, probed."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.generate import kubernetes
from lab.generate.kubernetes import workloads
from lab.spec import SPEC
from sample_rag_app.services.loadgen import heartbeat as heartbeat_module
from tests.image_pins import pinned_image
from tests.unit.lab.generate.kubernetes.conftest import Renders, Resource

DEPLOYMENTS = ("app", "loadgen", "alert-sink")


def _pod(deployment: Resource) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def _container(deployment: Resource) -> dict[str, Any]:
    (container,) = _pod(deployment)["containers"]
    return dict(container)


def _compose(repo_root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    return loaded


def test_the_three_compose_services_of_the_lab_image_are_deployments(
    k8s: Renders, repo_root: Path
) -> None:
    """Same names, same commands, same image as compose's app, loadgen and alert-sink."""
    assert sorted(d["metadata"]["name"] for d in k8s.by_kind("Deployment")) == sorted(DEPLOYMENTS)
    services = _compose(repo_root)["services"]
    for name in DEPLOYMENTS:
        container = _container(k8s.one("Deployment", name))
        assert container["command"] == services[name]["command"], name
        assert container["image"] == pinned_image("LAB_PYTHON_IMAGE")


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_pods_are_hardened_like_compose_and_more(k8s: Renders, repo_root: Path, name: str) -> None:
    """Non-root as the image's uid, read-only root, no capabilities, no escalation, the
    runtime's seccomp profile, no service-account token."""
    deployment = k8s.one("Deployment", name)
    pod, container = _pod(deployment), _container(deployment)
    uid = re.search(
        r"^USER (\d+):(\d+)$", (repo_root / "sample_rag_app/Dockerfile").read_text(), re.M
    )
    assert uid is not None
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": int(uid[1]),
        "runAsGroup": int(uid[2]),
        "fsGroup": int(uid[2]),
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["automountServiceAccountToken"] is False
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/tmp" in mounts  # compose's tmpfs: Python needs a writable temp directory


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_pods_get_no_service_link_variables(k8s: Renders, name: str) -> None:
    """Service links would set ALERT_SINK_PORT=tcp://... in every pod; the sink reads that
    variable as its port and would refuse to start."""
    assert _pod(k8s.one("Deployment", name))["enableServiceLinks"] is False


@pytest.mark.parametrize("name", DEPLOYMENTS)
def test_every_container_requests_resources_and_limits_memory(k8s: Renders, name: str) -> None:
    """CPU and memory requests for scheduling; a memory limit against a leak."""
    resources = _container(k8s.one("Deployment", name))["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys()
    assert "memory" in resources["limits"]


def test_app_probes_liveness_on_healthz_and_readiness_on_readyz(k8s: Renders) -> None:
    """Restarted when /healthz fails, out of the Service while /readyz fails, on its port."""
    container = _container(k8s.one("Deployment", "app"))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ports
    assert ports[workloads.PORT_NAME] == int(SPEC.scraping.app_target.rsplit(":", 1)[1])


def test_admin_token_comes_only_from_a_secret_the_user_creates(
    k8s: Renders, repo_root: Path
) -> None:
    """RAG_ADMIN_TOKEN reads the user's Secret (optional: without it the admin endpoints stay
    disabled); no Secret is rendered or committed."""
    env = {e["name"]: e for e in _container(k8s.one("Deployment", "app"))["env"]}
    assert env["RAG_ADMIN_TOKEN"] == {
        "name": "RAG_ADMIN_TOKEN",
        "valueFrom": {
            "secretKeyRef": {
                "name": workloads.ADMIN_SECRET,
                "key": workloads.ADMIN_SECRET_KEY,
                "optional": True,
            }
        },
    }
    assert not k8s.by_kind("Secret")
    committed = [
        path
        for directory in ("prometheus", "alertmanager", "grafana", "sample_rag_app")
        for path in (repo_root / directory).glob("kubernetes/*.yaml")
        if re.search(r"^kind: Secret$", path.read_text(), re.M)
    ]
    assert committed == []


def test_services_select_their_deployments_pods(k8s: Renders) -> None:
    """Each Service's selector matches its Deployment's pod labels, on a named container port."""
    for service in k8s.by_kind("Service"):
        name = service["metadata"]["name"]
        deployment = k8s.one("Deployment", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        ports = {p["name"] for p in _container(deployment)["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


def test_loadgen_targets_the_app_service(k8s: Renders) -> None:
    """The loadgen sends to the app's Service name and port, as compose's `app:8000`."""
    env = {e["name"]: e["value"] for e in _container(k8s.one("Deployment", "loadgen"))["env"]}
    port = k8s.one("Service", "app")["spec"]["ports"][0]["port"]
    assert env["LOADGEN_TARGET_URL"] == f"http://app:{port}"
    assert SPEC.scraping.app_target == f"app:{port}"


def test_namespace_enforces_the_restricted_pod_security_standard(k8s: Renders) -> None:
    """A pod that drops any of the hardening is refused by the API server itself."""
    labels = k8s.one("Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_spec_target_moves_every_object_that_names_it() -> None:
    """Another namespace, release and replica count in the spec reach the kustomizations, the
    sink's URL, the chart values' note, the release labels and the app's replicas."""
    target = replace(SPEC.kubernetes, namespace="team-a", release="monitoring", app_replicas=3)
    files = {f.path: f.content for f in kubernetes.render(replace(SPEC, kubernetes=target))}
    docs = {path: yaml.safe_load(text) for path, text in files.items()}
    kustomizations = [d for d in docs.values() if d.get("kind") == "Kustomization"]
    assert {k["namespace"] for k in kustomizations} == {"team-a"}
    webhook = docs["alertmanager/kubernetes/alertmanagerconfig.yaml"]["spec"]["receivers"][0]
    assert webhook["webhookConfigs"][0]["url"] == "http://alert-sink.team-a.svc:9095/webhook"
    # The values only say why they need no namespace selector, naming the namespace.
    assert 'namespace="team-a"' in files["prometheus/kubernetes/kube-prometheus-stack-values.yaml"]
    assert docs["sample_rag_app/kubernetes/namespace.yaml"]["metadata"]["name"] == "team-a"
    for path in (
        "prometheus/kubernetes/prometheusrule.yaml",
        "prometheus/kubernetes/servicemonitor.yaml",
    ):
        assert docs[path]["metadata"]["labels"]["release"] == "monitoring"
    assert docs["sample_rag_app/kubernetes/app-deployment.yaml"]["spec"]["replicas"] == 3
    assert not any("rag-lab" in text for text in files.values())


def _probe_passes(probe: dict[str, Any], heartbeat: Path) -> bool:
    """Run the probe's command here, on `heartbeat` in place of the loadgen's file."""
    command = [
        part.replace(str(heartbeat_module.HEARTBEAT_FILE), str(heartbeat))
        for part in probe["exec"]["command"]
    ]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def test_loadgen_probes_pass_exactly_while_its_heartbeat_is_current(
    k8s: Renders, tmp_path: Path
) -> None:
    """The startup and liveness probes read the file the generator renews: they pass while
    the time in it is ahead, fail once it has passed or before there is one; a beat outlasts
    two liveness periods, so a healthy loadgen never misses one."""
    container = _container(k8s.one("Deployment", "loadgen"))
    heartbeat = tmp_path / "alive"
    for name in ("startupProbe", "livenessProbe"):
        probe = container[name]
        assert not _probe_passes(probe, heartbeat), "no file yet"
        heartbeat_module.Heartbeat(heartbeat, 60).beat()
        assert _probe_passes(probe, heartbeat)
        heartbeat.write_text(f"{int(time.time()) - 1}\n")
        assert not _probe_passes(probe, heartbeat)
        heartbeat.unlink()
    period = container["livenessProbe"]["periodSeconds"]
    assert 2 * period <= heartbeat_module.HEARTBEAT_MIN_SECONDS
    assert "readinessProbe" not in container
