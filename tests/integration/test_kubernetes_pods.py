"""The rendered Deployments' containers, run by Docker as the kubelet would run them.

No cluster runs here. What can still be proven: the lab's image starts and answers every
probe with the Deployments' exact commands, environment, user, read-only root filesystem,
no capabilities and no privilege escalation, with only their emptyDir volumes writable; and
the loadgen's target URL reaches the app by its Service name.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from lab.generate import kubernetes
from lab.kit.polling import poll_until
from lab.spec import SPEC
from tests.image_pins import image
from tests.integration.conftest import build_once

# Containers of its own, no compose stack: a group of its own, free to run on any worker
# beside the shared stack's tests (under xdist one worker starts these pods and runs these).
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("kubernetes-pods")]

STARTUP_SECONDS = 60


def _deployments() -> dict[str, dict[str, Any]]:
    docs = [yaml.safe_load(f.content) for f in kubernetes.render(SPEC)]
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Deployment"}


def docker_run_args(deployment: dict[str, Any], *, network: str, container: str) -> list[str]:
    """`docker run` arguments with the pod's security context, env, volumes and command."""
    pod = deployment["spec"]["template"]["spec"]
    (spec,) = pod["containers"]
    pod_security, security = pod["securityContext"], spec["securityContext"]
    args = [
        "--detach",
        f"--name={container}",
        f"--network={network}",
        f"--network-alias={deployment['metadata']['name']}",
        f"--user={pod_security['runAsUser']}:{pod_security['runAsGroup']}",
        *(f"--cap-drop={cap}" for cap in security["capabilities"]["drop"]),
    ]
    if security["readOnlyRootFilesystem"]:
        args.append("--read-only")
    if not security["allowPrivilegeEscalation"]:
        args.append("--security-opt=no-new-privileges")
    mounts = {m["name"]: m["mountPath"] for m in spec.get("volumeMounts", [])}
    for volume in pod["volumes"]:
        assert set(volume) == {"name", "emptyDir"}, "only emptyDir volumes are emulated"
        # An emptyDir is a fresh, world-writable directory.
        args.append(f"--tmpfs={mounts[volume['name']]}:mode=1777")
    for variable in spec.get("env", []):
        if "value" in variable:
            args.append(f"--env={variable['name']}={variable['value']}")
        else:  # the optional admin Secret, which the user has not created
            assert variable["valueFrom"]["secretKeyRef"]["optional"] is True
    for port in spec.get("ports", []):
        args.append(f"--publish=127.0.0.1::{port['containerPort']}")
    return [*args, image("LAB_PYTHON_IMAGE"), *spec["command"]]


@pytest.fixture(scope="module")
def pods() -> Iterator[dict[str, str]]:
    """The three Deployments' containers on one network; yields container names by Deployment."""
    build_once("app")
    network = f"rag-k8s-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "network", "create", network], check=True, capture_output=True)
    names = {name: f"{network}-{name}" for name in _deployments()}
    try:
        for name, deployment in _deployments().items():
            args = docker_run_args(deployment, network=network, container=names[name])
            subprocess.run(["docker", "run", *args], check=True, capture_output=True)
        yield names
    finally:
        subprocess.run(["docker", "rm", "-f", *names.values()], capture_output=True)
        subprocess.run(["docker", "network", "rm", network], capture_output=True)


def _host_url(container: str, port: int) -> str:
    out = subprocess.run(
        ["docker", "port", container, str(port)], check=True, capture_output=True, text=True
    ).stdout
    return f"http://{out.splitlines()[0].strip()}"


def _answers(container: str, probe: dict[str, Any], ports: dict[str, int]) -> bool:
    """One probe as the kubelet runs it: an HTTP GET answering 200, or a command exiting 0."""
    if "exec" in probe:
        command = ["docker", "exec", container, *probe["exec"]["command"]]
        return subprocess.run(command, capture_output=True, check=False).returncode == 0
    url = _host_url(container, ports[probe["httpGet"]["port"]]) + probe["httpGet"]["path"]
    return requests.get(url, timeout=2).status_code == 200


@pytest.mark.parametrize("name", ["app", "alert-sink", "loadgen"])
def test_every_probe_answers_with_the_deployments_hardening(
    pods: dict[str, str], name: str
) -> None:
    """Startup, liveness and readiness probes all pass (the loadgen's read the heartbeat it
    renews in its emptyDir), read-only, as uid 10001."""
    (container,) = _deployments()[name]["spec"]["template"]["spec"]["containers"]
    probes = [
        container[p] for p in ("startupProbe", "livenessProbe", "readinessProbe") if p in container
    ]
    assert probes, f"{name} has no probe"
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    for probe in probes:
        poll_until(
            lambda probe=probe: _answers(pods[name], probe, ports),
            timeout=STARTUP_SECONDS,
            interval=0.5,
            describe=f"{name} {probe}",
        )
    user = subprocess.run(
        ["docker", "exec", pods[name], "id", "-u"], check=True, capture_output=True, text=True
    )
    assert user.stdout.strip() == "10001"


def test_loadgen_reaches_the_app_by_its_service_name(pods: dict[str, str]) -> None:
    """The loadgen's LOADGEN_TARGET_URL (http://app:8000) serves queries: the app counts them."""
    app = _host_url(pods["app"], 8000)

    def served() -> float:
        text = requests.get(f"{app}/metrics", timeout=2).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("rag_requests_total")
        )

    poll_until(served, timeout=STARTUP_SECONDS, interval=1.0, describe="loadgen traffic")


def test_admin_endpoints_stay_disabled_without_the_secret(pods: dict[str, str]) -> None:
    """No Secret, no token: the admin endpoints answer 404 saying they are disabled."""
    app = _host_url(pods["app"], 8000)
    poll_until(lambda: requests.get(f"{app}/readyz", timeout=2).ok, timeout=STARTUP_SECONDS)
    response = requests.get(f"{app}/admin/faults", timeout=2)
    assert response.status_code == 404
    assert "disabled" in response.text
